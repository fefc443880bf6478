import type { LockOptions } from './lock'
import type { EntryUsage, PruneResult, PruneSettings } from './prune'
import type { CacheRecord } from './record'
import { mkdir, readFile, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { writeAtomic } from './atomic'
import { CACHE_FORMAT, CacheLayout, extensionOf } from './layout'
import { acquireLock } from './lock'
import { listEntries, prune, removeEntry } from './prune'
import { parseRecord, sealOf, serializeRecord, sha256, stampOf } from './record'

export interface CacheEntry { record: CacheRecord, data: Buffer, path: string }

/**
 * A lookup: the entry (with `restamp` when its image was hashed again because its stamp changed,
 * so the caller may record the new stamp), nothing, or an entry that cannot be trusted and why.
 */
export type Lookup = { entry: CacheEntry, restamp?: true } | { missing: true } | { corrupt: string }

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
    let text: string
    try {
      text = await readFile(this.recordPath(key), 'utf8')
    }
    catch {
      return { missing: true }
    }
    const parsed = parseRecord(text, key)
    if (!('record' in parsed))
      return parsed
    const { record } = parsed
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
    if (record.verified === stampOf(info))
      return { entry: { record, data, path } }
    // changed since it was last checked (written anew, restored from a CI cache, altered): hash it
    if (sha256(data) !== record.sha256)
      return { corrupt: 'its image does not match the checksum in its record' }
    return { entry: { record: { ...record, verified: stampOf(info) }, data, path }, restamp: true }
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
    await writeAtomic(this.recordPath(key), serializeRecord(record))
    return { record, data, path }
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
