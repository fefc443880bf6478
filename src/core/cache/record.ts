import { createHash } from 'node:crypto'
import { CACHE_FORMAT } from './layout'

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

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex')

export function sealOf(record: CacheRecord): string {
  const { seal: _seal, verified: _verified, ...fields } = record
  return sha256(JSON.stringify(fields))
}

export const stampOf = (info: { size: number, mtimeMs: number, ino: number }): string => `${info.size}:${info.mtimeMs}:${info.ino}`

/** A record read from disk: the parsed record, nothing to use, or why it cannot be trusted. */
export type ParsedRecord = { record: CacheRecord } | { missing: true } | { corrupt: string }

/** Parse and check a record's text: valid JSON, our format, its key, a plain file name, its seal. */
export function parseRecord(text: string, key: string): ParsedRecord {
  let record: CacheRecord
  try {
    record = JSON.parse(text)
  }
  catch {
    return { corrupt: 'its record is not valid JSON' }
  }
  if (typeof record !== 'object' || record === null)
    return { corrupt: 'its record is not valid JSON' }
  if (record.cacheFormat !== CACHE_FORMAT)
    return { missing: true }
  // the image sits beside its record, named by the key: never a path that leads anywhere else
  if (record.key !== key || typeof record.file !== 'string' || !new RegExp(`^${key}\\.(?:jpg|png|webp|avif)$`).test(record.file))
    return { corrupt: 'its record does not match its key' }
  if (record.seal !== sealOf(record))
    return { corrupt: 'its record was changed after it was written' }
  return { record }
}

export const serializeRecord = (record: CacheRecord): string => `${JSON.stringify(record, null, 2)}\n`
