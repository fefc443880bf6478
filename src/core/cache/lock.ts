import { open, readFile, rm, stat, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { ensureDir } from './atomic'

export interface LockOptions {
  /** a lock not refreshed for this long is taken over (its host crashed, say) */
  staleMs?: number
  /** how often a waiter looks again */
  pollMs?: number
}

/**
 * Take a cross-process lock: a file created exclusively, holding its owner, and kept fresh while
 * held. A lock whose owner died (same host, no such process) or that went stale is taken over.
 * Resolves with the function that releases it.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const { staleMs = 30_000, pollMs = 50 } = options
  await ensureDir(dirname(path))
  const owner = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })
  for (;;) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(owner)
      await handle.close()
      break
    }
    catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw error
    }
    if (await isAbandoned(path, staleMs))
      await rm(path, { force: true })
    else
      await new Promise(r => setTimeout(r, pollMs))
  }
  const beat = setInterval(() => {
    const now = new Date()
    utimes(path, now, now).catch(() => {})
  }, Math.max(1000, staleMs / 3))
  beat.unref()
  return async () => {
    clearInterval(beat)
    await rm(path, { force: true })
  }
}

async function isAbandoned(path: string, staleMs: number): Promise<boolean> {
  let info
  let owner: { pid?: number, host?: string }
  try {
    info = await stat(path)
    owner = JSON.parse(await readFile(path, 'utf8'))
  }
  catch (error) {
    // gone already (free now), or caught between create and write: look again shortly
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? false : Date.now() - (info?.mtimeMs ?? Date.now()) > staleMs
  }
  if (Date.now() - info.mtimeMs > staleMs)
    return true
  if (owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid) {
    try {
      process.kill(owner.pid, 0)
    }
    catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
  return false
}
