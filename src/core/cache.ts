import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'

export const CACHE_FORMAT = 1
/** Written at the top of the cache dir after a build prunes: when, and with which settings. */
export const PRUNE_MARKER = 'prune.json'

/** What sits next to each cached image: enough to trust it, and to say where it came from. */
export interface CacheRecord {
  cacheFormat: number
  key: string
  /** image file name, in the same folder as the record */
  file: string
  bytes: number
  sha256: string
  width: number
  height: number
  format: string
  provider: string
  providerVersion: string
  created: string
  params: Record<string, unknown>
  provenance?: Record<string, unknown>
  /**
   * size, mtime and inode of the image when its checksum was last verified: while they match, a
   * read trusts the bytes without hashing them again (a warm build reads many megabytes)
   */
  verified?: string
  /** SHA-256 of every other field (but `verified`): an edited record is caught like an edited image */
  seal?: string
}

export interface CacheEntry { record: CacheRecord, data: Buffer, path: string }

/** A lookup: the entry, nothing, or an entry that cannot be trusted and why. */
export type Lookup = { entry: CacheEntry } | { missing: true } | { corrupt: string }

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex')
const sealOf = (record: CacheRecord): string => {
  const { seal: _seal, verified: _verified, ...fields } = record
  return sha256(JSON.stringify(fields))
}
const stampOf = (info: { size: number, mtimeMs: number, ino: number }): string => `${info.size}:${info.mtimeMs}:${info.ino}`

/**
 * The key of an enhancement: the source bytes, the engine and its version, and the normalized
 * parameters. The file path is not part of it: the same bytes anywhere share one entry.
 */
export function enhancementKey(source: Uint8Array, provider: { id: string, version: string }, params: { scale: number | 'auto', type: string }): string {
  return createHash('sha256')
    .update(source)
    .update('\0')
    .update(JSON.stringify({ provider: provider.id, version: provider.version, scale: params.scale, type: params.type }))
    .digest('hex')
}

/** The key of a format conversion of an enhanced image. */
export function variantKey(enhancedKey: string, format: string, quality: number | undefined): string {
  return sha256(JSON.stringify({ from: enhancedKey, format, quality: quality ?? null }))
}

const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' }
export const extensionOf = (format: string): string => EXT[format] ?? format

/** Write a file so that readers see either nothing or all of it: temp file, fsync, rename. */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx')
  try {
    await handle.writeFile(data)
    await handle.sync()
  }
  catch (error) {
    await handle.close()
    await rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  try {
    await rename(tmp, path)
  }
  catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

export class DiskCache {
  constructor(readonly dir: string) {}

  private folder(key: string): string {
    return join(this.dir, key.slice(0, 2))
  }

  recordPath(key: string): string {
    return join(this.folder(key), `${key}.json`)
  }

  imagePath(key: string, format: string): string {
    return join(this.folder(key), `${key}.${extensionOf(format)}`)
  }

  /**
   * The entry, or why there is none. The record must match its seal; the image must match the
   * record's size, and its SHA-256 whenever the image's size/mtime/inode stamp has changed.
   */
  async lookup(key: string): Promise<Lookup> {
    let text: string
    try {
      text = await readFile(this.recordPath(key), 'utf8')
    }
    catch {
      return { missing: true }
    }
    let record: CacheRecord
    try {
      record = JSON.parse(text)
    }
    catch {
      return { corrupt: 'its record is not valid JSON' }
    }
    if (record.cacheFormat !== CACHE_FORMAT)
      return { missing: true }
    if (record.key !== key || typeof record.file !== 'string' || record.file.includes('/'))
      return { corrupt: 'its record does not match its key' }
    if (record.seal !== sealOf(record))
      return { corrupt: 'its record was changed after it was written' }
    const path = join(this.folder(key), record.file)
    let data: Buffer
    let info
    try {
      [data, info] = await Promise.all([readFile(path), stat(path)])
    }
    catch {
      return { corrupt: 'its image file is missing' }
    }
    if (data.length !== record.bytes)
      return { corrupt: `its image has ${data.length} bytes, the record says ${record.bytes}` }
    if (record.verified !== stampOf(info)) {
      // changed since it was last checked (written anew, restored from a CI cache, altered): hash it
      if (sha256(data) !== record.sha256)
        return { corrupt: 'its image does not match the checksum in its record' }
      record.verified = stampOf(info)
      await writeAtomic(this.recordPath(key), `${JSON.stringify(record, null, 2)}\n`).catch(() => {})
    }
    return { entry: { record, data, path } }
  }

  /** Mark an entry as used now (its record's mtime), so pruning keeps what builds still use. */
  async touch(key: string): Promise<void> {
    const now = new Date()
    await utimes(this.recordPath(key), now, now).catch(() => {})
  }

  /**
   * Take the cross-process lock of a key: a lock file created exclusively, holding its owner, and
   * kept fresh while held. A lock whose owner died (same host, no such process) or that went
   * stale (not refreshed for `staleMs`, e.g. its host crashed) is taken over.
   */
  async lock(key: string, { staleMs = 30_000, pollMs = 50 } = {}): Promise<() => Promise<void>> {
    await mkdir(this.folder(key), { recursive: true })
    const path = join(this.folder(key), `${key}.lock`)
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

  /** Every entry: key, the bytes its files take, and when a build last used it (its record's mtime). */
  async entries(): Promise<Array<{ key: string, bytes: number, lastUsed: number }>> {
    const byKey = new Map<string, { key: string, bytes: number, lastUsed: number }>()
    for (const folder of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[a-f\d]{2}$/.test(folder))
        continue
      for (const name of await readdir(join(this.dir, folder)).catch(() => [] as string[])) {
        const key = name.slice(0, 64)
        if (!/^[a-f\d]{64}\.(?:json|jpg|png|webp|avif)$/.test(name))
          continue
        const info = await stat(join(this.dir, folder, name)).catch(() => undefined)
        if (!info)
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

  /** Remove an entry: the record first, so nobody reads a record whose image is gone. */
  async remove(key: string): Promise<void> {
    const folder = this.folder(key)
    await rm(this.recordPath(key), { force: true })
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (name.startsWith(`${key}.`) && !name.endsWith('.lock'))
        await rm(join(folder, name), { force: true })
    }
  }

  /**
   * Drop entries unused for longer than `maxAge` ms, then the least recently used until the cache
   * fits in `maxSize` bytes; never an entry in `keep`. Also clears temp files of crashed writers.
   */
  async prune({ maxAge = Infinity, maxSize = Infinity, keep = new Set<string>(), now = Date.now() }: { maxAge?: number, maxSize?: number, keep?: Set<string>, now?: number }): Promise<{ removed: number, freed: number, remaining: number, bytes: number }> {
    const all = (await this.entries()).sort((a, b) => a.lastUsed - b.lastUsed)
    let bytes = all.reduce((sum, e) => sum + e.bytes, 0)
    let removed = 0
    let freed = 0
    for (const e of all) {
      if (keep.has(e.key))
        continue
      if (now - e.lastUsed > maxAge || bytes > maxSize) {
        await this.remove(e.key)
        bytes -= e.bytes
        freed += e.bytes
        removed++
      }
    }
    await this.removeLeftovers(now)
    return { removed, freed, remaining: all.length - removed, bytes }
  }

  /** Temp files older than an hour were left by a writer that died before its rename. */
  private async removeLeftovers(now: number): Promise<void> {
    for (const folder of await readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.dir, folder)).catch(() => [] as string[])) {
        if (!name.endsWith('.tmp'))
          continue
        const info = await stat(join(this.dir, folder, name)).catch(() => undefined)
        if (info && now - info.mtimeMs > 3_600_000)
          await rm(join(this.dir, folder, name), { force: true })
      }
    }
  }

  /** Store an image and its record; the record is written last, so it only ever names a whole image. */
  async put(key: string, data: Buffer, meta: Omit<CacheRecord, 'cacheFormat' | 'key' | 'file' | 'bytes' | 'sha256' | 'created'>): Promise<CacheEntry> {
    await mkdir(this.folder(key), { recursive: true })
    const path = this.imagePath(key, meta.format)
    await writeAtomic(path, data)
    const written = await stat(path)
    const record: CacheRecord = {
      cacheFormat: CACHE_FORMAT,
      key,
      file: `${key}.${extensionOf(meta.format)}`,
      bytes: data.length,
      sha256: sha256(data),
      created: new Date().toISOString(),
      ...meta,
      verified: stampOf(written),
    }
    record.seal = sealOf(record)
    await writeAtomic(this.recordPath(key), `${JSON.stringify(record, null, 2)}\n`)
    return { record, data, path }
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

/** Run `task` once per key at a time: concurrent callers with the same key share its promise. */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>()

  run(key: string, task: () => Promise<T>): Promise<T> {
    let promise = this.running.get(key)
    if (!promise) {
      promise = task().finally(() => this.running.delete(key))
      this.running.set(key, promise)
    }
    return promise
  }
}
