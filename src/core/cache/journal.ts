import type { CacheLayout } from './layout'
import { readFile, rm } from 'node:fs/promises'
import { ensureDir, writeAtomic } from './atomic'

/** A paid task that has no cache entry yet: written the moment its id exists, removed once cached. */
export interface JournaledTask {
  key: string
  /** the engine and its version (for the API, its origin): a journal of another service is not resumed */
  provider: string
  providerVersion: string
  taskId: string
  submittedAt: number
}

/**
 * How long a journaled task is worth resuming: the service keeps results for about an hour and
 * forgets task ids after that, so an older task would answer 404 anyway.
 */
export const JOURNAL_TTL = 2 * 3_600_000

export async function readJournal(
  layout: CacheLayout,
  key: string,
  engine: { id: string, version: string },
): Promise<JournaledTask | undefined> {
  const text = await readFile(layout.journalPath(key), 'utf8').catch(() => undefined)
  if (text === undefined)
    return undefined
  let task: JournaledTask
  try {
    task = JSON.parse(text)
  }
  catch {
    return undefined
  }
  const fresh = typeof task?.submittedAt === 'number' && Date.now() - task.submittedAt < JOURNAL_TTL
  const same = task?.key === key && task.provider === engine.id && task.providerVersion === engine.version
  if (!same || typeof task.taskId !== 'string' || !fresh)
    return undefined
  return task
}

export async function writeJournal(layout: CacheLayout, task: JournaledTask): Promise<void> {
  await ensureDir(layout.folder(task.key))
  await writeAtomic(layout.journalPath(task.key), `${JSON.stringify(task)}\n`)
}

export async function clearJournal(layout: CacheLayout, key: string): Promise<void> {
  await rm(layout.journalPath(key), { force: true })
}
