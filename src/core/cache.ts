import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

export const CACHE_FORMAT = 1

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
}

export interface CacheEntry { record: CacheRecord, data: Buffer, path: string }

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex')

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

  /** The entry, or undefined when it is missing or does not match its record. */
  async get(key: string): Promise<CacheEntry | undefined> {
    let record: CacheRecord
    try {
      record = JSON.parse(await readFile(this.recordPath(key), 'utf8'))
    }
    catch {
      return undefined
    }
    if (record.cacheFormat !== CACHE_FORMAT || record.key !== key)
      return undefined
    const path = join(this.folder(key), record.file)
    let data: Buffer
    try {
      data = await readFile(path)
    }
    catch {
      return undefined
    }
    if (data.length !== record.bytes || sha256(data) !== record.sha256)
      return undefined
    return { record, data, path }
  }

  /** Store an image and its record; the record is written last, so it only ever names a whole image. */
  async put(key: string, data: Buffer, meta: Omit<CacheRecord, 'cacheFormat' | 'key' | 'file' | 'bytes' | 'sha256' | 'created'>): Promise<CacheEntry> {
    await mkdir(this.folder(key), { recursive: true })
    const path = this.imagePath(key, meta.format)
    await writeAtomic(path, data)
    const record: CacheRecord = {
      cacheFormat: CACHE_FORMAT,
      key,
      file: `${key}.${extensionOf(meta.format)}`,
      bytes: data.length,
      sha256: sha256(data),
      created: new Date().toISOString(),
      ...meta,
    }
    await writeAtomic(this.recordPath(key), `${JSON.stringify(record, null, 2)}\n`)
    return { record, data, path }
  }
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
