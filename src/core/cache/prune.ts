import type { CacheLayout } from './layout'
import type { RemoteStats } from './remote'
import { lstat, readdir, readFile, rm, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, writeAtomic } from './atomic'
import {
  ENTRY_FILE,
  isKeyFolder,
  JOURNAL_FILE,
  LOCK_FILE,
  NAMED_DIR,
  NAMED_FILE,
  PRUNE_MARKER,
  REMOTE_STATS,
  TEMP_FILE,
  TOP_TEMP_FILE,
} from './layout'

export interface EntryUsage { key: string, bytes: number, lastUsed: number }
export interface PruneSettings { maxAge?: number, maxSize?: number, keep?: Set<string>, now?: number }
/** What a build's end-of-build prune needs: its settings, the keys it used, and how many it wrote. */
export interface BuildUsage { maxAge: number, maxSize: number, used: Set<string>, written: number }
export interface PruneResult { removed: number, freed: number, remaining: number, bytes: number }

/** Every entry: key, the bytes its files take, and when a build last used it (its record's mtime). */
export async function listEntries(layout: CacheLayout): Promise<EntryUsage[]> {
  const byKey = new Map<string, EntryUsage>()
  for (const folder of await keyFolders(layout)) {
    for (const name of await readdir(join(layout.dir, folder)).catch(() => [] as string[])) {
      const key = ENTRY_FILE.exec(name)?.[1]
      if (!key)
        continue
      const info = await lstat(join(layout.dir, folder, name)).catch(() => undefined)
      if (!info?.isFile())
        continue
      const entry = byKey.get(key) ?? { key, bytes: 0, lastUsed: -1 }
      entry.bytes += info.size
      if (name.endsWith('.json'))
        entry.lastUsed = info.mtimeMs
      byKey.set(key, entry)
    }
  }
  // an image without a record is no entry (a writer died between the two renames): oldest of all
  return [...byKey.values()].map(e => (e.lastUsed < 0 ? { ...e, lastUsed: 0 } : e))
}

/**
 * The key folders of the cache: real folders named by two hex digits. A link in their place (to
 * anywhere) is never followed, so nothing outside the cache dir is read or deleted through it.
 */
async function keyFolders(layout: CacheLayout): Promise<string[]> {
  const entries = await readdir(layout.dir, { withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isDirectory() && isKeyFolder(e.name)).map(e => e.name)
}

/** Remove an entry: the record first, so nobody reads a record whose image is gone. */
export async function removeEntry(layout: CacheLayout, key: string): Promise<void> {
  const folder = layout.folder(key)
  if (!(await lstat(folder).catch(() => undefined))?.isDirectory())
    return
  await removeNamed(layout, key)
  await rm(layout.recordPath(key), { force: true })
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (name.startsWith(`${key}.`) && ENTRY_FILE.test(name))
      await rm(join(folder, name), { force: true })
  }
}

/** The readable-name copies of an entry: `named/<key>/` and the image files in it, never a link's target. */
async function removeNamed(layout: CacheLayout, key: string): Promise<void> {
  const folder = join(layout.dir, NAMED_DIR, key)
  const isFolder = async (path: string): Promise<boolean> =>
    (await lstat(path).catch(() => undefined))?.isDirectory() === true
  if (!await isFolder(join(layout.dir, NAMED_DIR)) || !await isFolder(folder))
    return
  for (const name of await readdir(folder)) {
    if (NAMED_FILE.test(name))
      await rm(join(folder, name), { force: true })
  }
  await rmdir(folder).catch(() => {})
}

/**
 * Drop entries unused for longer than `maxAge` ms, then the least recently used until the cache
 * fits in `maxSize` bytes; never an entry in `keep`. Also clears temp files of crashed writers.
 */
export async function prune(layout: CacheLayout, settings: PruneSettings): Promise<PruneResult> {
  const { maxAge = Infinity, maxSize = Infinity, keep = new Set<string>(), now = Date.now() } = settings
  const all = (await listEntries(layout)).sort((a, b) => a.lastUsed - b.lastUsed)
  let bytes = all.reduce((sum, e) => sum + e.bytes, 0)
  let removed = 0
  let freed = 0
  for (const e of all) {
    if (keep.has(e.key))
      continue
    if (now - e.lastUsed > maxAge || bytes > maxSize) {
      await removeEntry(layout, e.key)
      bytes -= e.bytes
      freed += e.bytes
      removed++
    }
  }
  await removeLeftovers(layout, now)
  return { removed, freed, remaining: all.length - removed, bytes }
}

/** Temp files older than an hour were left by a writer that died before its rename. */
async function removeLeftovers(layout: CacheLayout, now: number): Promise<void> {
  for (const folder of await keyFolders(layout)) {
    for (const name of await readdir(join(layout.dir, folder)).catch(() => [] as string[])) {
      if (!TEMP_FILE.test(name))
        continue
      const info = await lstat(join(layout.dir, folder, name)).catch(() => undefined)
      if (info && now - info.mtimeMs > 3_600_000)
        await rm(join(layout.dir, folder, name), { force: true })
    }
  }
}

const PRUNE_EVERY = 3_600_000

/**
 * The end-of-build prune. A scan stats every file (about a second for ten thousand entries), so it
 * is skipped when the last one was within the hour with the same settings, unless this build wrote
 * entries that a `maxSize` may now have no room for. A build that used no entry leaves the cache alone.
 */
export async function pruneIfDue(layout: CacheLayout, build: BuildUsage): Promise<void> {
  const { maxAge, maxSize, used, written } = build
  if (used.size === 0 || (maxAge === Infinity && maxSize === Infinity))
    return
  const settings = `${maxAge}/${maxSize}`
  const marker = join(layout.dir, PRUNE_MARKER)
  // another build may be writing it this very moment: what cannot be read counts as no marker
  const last = await readJson<{ at: number, settings: string }>(marker)
  const sizeAtRisk = maxSize !== Infinity && written > 0
  if (last?.settings === settings && Date.now() - last.at < PRUNE_EVERY && !sizeAtRisk)
    return
  await prune(layout, { maxAge, maxSize, keep: used })
  await writeAtomic(marker, JSON.stringify({ at: Date.now(), settings })).catch(() => {})
}

/**
 * Remove every entry, lock, temp file and the prune marker, then the folders left empty. Anything
 * else (a file somebody put there, a folder that is no key folder) is left where it is and listed.
 */
export async function clear(layout: CacheLayout): Promise<{ removed: number, bytes: number, left: string[] }> {
  const entries = await listEntries(layout)
  const left: string[] = []
  for (const name of await readdir(layout.dir).catch(() => [] as string[])) {
    const path = join(layout.dir, name)
    if (name === PRUNE_MARKER || name === REMOTE_STATS || TOP_TEMP_FILE.test(name)) {
      await rm(path, { force: true })
      continue
    }
    const info = await lstat(path).catch(() => undefined)
    if (name === NAMED_DIR && info?.isDirectory()) {
      for (const key of await readdir(path)) {
        if (/^[a-f\d]{64}$/.test(key))
          await removeNamed(layout, key)
        if (await lstat(join(path, key)).then(() => true, () => false))
          left.push(`${name}/${key}`)
      }
      await rmdir(path).catch(() => {})
      continue
    }
    if (!isKeyFolder(name) || !info?.isDirectory()) {
      left.push(name)
      continue
    }
    for (const file of await readdir(path)) {
      const ours = [ENTRY_FILE, TEMP_FILE, LOCK_FILE, JOURNAL_FILE].some(name => name.test(file))
      const fileInfo = await lstat(join(path, file))
      if (ours && (fileInfo.isFile() || fileInfo.isSymbolicLink()))
        await rm(join(path, file), { force: true })
      else
        left.push(`${name}/${file}`)
    }
    await rmdir(path).catch(() => {})
  }
  await rmdir(layout.dir).catch(() => {})
  return { removed: entries.length, bytes: entries.reduce((sum, e) => sum + e.bytes, 0), left }
}

/** Add a build's remote-tier counts to the cache's running totals (`remote.json`), for `cache stats`. */
export async function recordRemoteStats(layout: CacheLayout, stats: RemoteStats): Promise<void> {
  const path = join(layout.dir, REMOTE_STATS)
  const total = await readJson<RemoteTotals>(path) ?? { hits: 0, misses: 0, uploads: 0, rejected: 0, builds: 0 }
  const next: RemoteTotals = {
    hits: total.hits + stats.hits,
    misses: total.misses + stats.misses,
    uploads: total.uploads + stats.uploads,
    rejected: total.rejected + stats.rejected,
    builds: total.builds + 1,
    ...(stats.off ? { lastOff: stats.off } : {}),
  }
  await ensureDir(layout.dir).then(() => writeAtomic(path, JSON.stringify(next))).catch(() => {})
}

export interface RemoteTotals {
  hits: number
  misses: number
  uploads: number
  rejected: number
  builds: number
  lastOff?: string
}

/** A small JSON file, or undefined when it is missing, half-written or not JSON. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  }
  catch {
    return undefined
  }
}
