import type { Stats } from 'node:fs'
import type { LockOptions } from './lock'
import type { EntryUsage, PruneResult, PruneSettings } from './prune'
import type { CacheRecord } from './record'
import { constants, lstatSync } from 'node:fs'
import { open, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { readOutputMeta } from '../image'
import { READ_AT_ONCE_BYTES, readFileAtOnce } from '../read-file'
import { ensureDir, writeAtomic } from './atomic'
import { CACHE_FORMAT, CacheLayout, extensionOf } from './layout'
import { acquireLock } from './lock'
import { listEntries, prune, removeEntry } from './prune'
import { parseRecord, sealOf, serializeRecord, sha256, stampOf } from './record'

export interface CacheEntry { record: CacheRecord, data: Buffer, path: string }

/**
 * A lookup: the entry (with `restamp` when its image was hashed again because its stamp changed,
 * so the caller may record the new stamp, and `usedAt`, when a build last used it: its record's
 * mtime), nothing, or an entry that cannot be trusted and why.
 */
export type Lookup = { entry: CacheEntry, restamp?: true, usedAt: number } | { missing: true } | { corrupt: string }

/**
 * The disk cache: entries read and verified, written atomically, locked across processes, pruned.
 * Each job lives in its own module; this class holds the cache dir and names the operations.
 */
export class DiskCache extends CacheLayout {
  /**
   * The entry, or why there is none; reads only. The record must match its seal; the image must
   * match the record's size, and its SHA-256 whenever the image's size/mtime/inode stamp changed.
   */
  async lookup(key: string): Promise<Lookup> {
    // the cache never follows a link it did not make: not a key folder, not a record, not an image
    // the folder and the record are a few hundred bytes: read at once, sparing the thread pool a
    // round trip per call (a warm build makes these calls for every image)
    const folder = lstatOrNone(this.folder(key))
    if (!folder)
      return { missing: true }
    if (!folder.isDirectory())
      return { corrupt: 'its folder is a link or a file, not a folder the cache made' }
    let text: string
    let usedAt: number
    try {
      const read = readFileAtOnce(this.recordPath(key), { noFollow: true, limit: 1 << 20 })
      text = read.data.toString('utf8')
      usedAt = read.info.mtimeMs
    }
    catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? { missing: true }
        : { corrupt: `its record cannot be read `
          + `(${(error as NodeJS.ErrnoException).code})` }
    }
    const parsed = parseRecord(text, key)
    if (!('record' in parsed))
      return parsed
    const { record } = parsed
    const path = join(this.folder(key), record.file)
    let data: Buffer
    let info
    try {
      ({ data, info } = await readNoFollow(path, record.bytes))
    }
    catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return { corrupt: code === 'ENOENT'
        ? 'its image file is missing'
        : `its image is not a plain file the cache wrote `
          + `(${code ?? (error as Error).message})` }
    }
    if (data.length !== record.bytes)
      return { corrupt: `its image has ${data.length} bytes, the record says ${record.bytes}` }
    if (record.verified === stampOf(info))
      return { entry: { record, data, path }, usedAt }
    // changed since it was last checked (written anew, restored from a CI cache, altered): hash it,
    // and read its header back
    if (sha256(data) !== record.sha256)
      return { corrupt: 'its image does not match the checksum in its record' }
    const header = await readOutputMeta(data).catch(() => undefined)
    if (header?.width !== record.width || header.height !== record.height || header.format !== record.format)
      return { corrupt: 'its image does not decode to the size and format in its record' }
    return { entry: { record: { ...record, verified: stampOf(info) }, data, path }, restamp: true, usedAt }
  }

  /** Record the stamp an entry was just verified with, so the next read need not hash it. */
  async restamp(entry: CacheEntry): Promise<void> {
    await writeAtomic(this.recordPath(entry.record.key), serializeRecord(entry.record)).catch(() => {})
  }

  /** Mark an entry as used now (its record's mtime), so pruning keeps what builds still use. */
  async touch(key: string): Promise<void> {
    const now = new Date()
    await utimes(this.recordPath(key), now, now).catch(() => {})
  }

  /** Store an image and its record; the record is written last, so it only ever names a whole image. */
  async put(
    key: string,
    data: Buffer,
    meta: Omit<CacheRecord, 'cacheFormat' | 'key' | 'file' | 'bytes' | 'sha256' | 'created'>,
  ): Promise<CacheEntry> {
    await ensureDir(this.folder(key))
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
    await writeAtomic(this.recordPath(key), serializeRecord(record))
    return { record, data, path }
  }

  /** Store an entry that comes with its record (from the remote tier): the image first, its record last. */
  async putRecord(record: CacheRecord, data: Buffer): Promise<CacheEntry> {
    await ensureDir(this.folder(record.key))
    const path = join(this.folder(record.key), record.file)
    await writeAtomic(path, data)
    const stamped = { ...record, verified: stampOf(await stat(path)) }
    await writeAtomic(this.recordPath(record.key), serializeRecord(stamped))
    return { record: stamped, data, path }
  }

  /** Take the cross-process lock of a key (see acquireLock). */
  lock(key: string, options?: LockOptions): Promise<() => Promise<void>> {
    return acquireLock(this.lockPath(key), options)
  }

  entries(): Promise<EntryUsage[]> {
    return listEntries(this)
  }

  remove(key: string): Promise<void> {
    return removeEntry(this, key)
  }

  prune(settings: PruneSettings): Promise<PruneResult> {
    return prune(this, settings)
  }
}

function lstatOrNone(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  }
  catch {
    return undefined
  }
}

/**
 * A file's bytes and stat, refusing a symbolic link (O_NOFOLLOW) and anything but a regular file,
 * and reading no more than `limit` + 1 bytes (a record says how large its image is).
 */
async function readNoFollow(path: string, limit = 1 << 20): Promise<{ data: Buffer, info: Stats }> {
  if (limit <= READ_AT_ONCE_BYTES)
    return readFileAtOnce(path, { noFollow: true, limit })
  // O_NONBLOCK: a FIFO planted at the name opens at once (and is then refused), never blocks
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const info = await handle.stat()
    if (!info.isFile())
      throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' })
    const size = Math.min(info.size, limit + 1)
    // every byte is read over (not zero-filled first), in memory of its own (never a shared pool)
    const data = Buffer.allocUnsafeSlow(size)
    const { bytesRead } = await handle.read(data, 0, size, 0)
    return { data: data.subarray(0, bytesRead), info }
  }
  finally {
    await handle.close()
  }
}
