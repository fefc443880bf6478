import { createHash } from 'node:crypto'
import { sha256 } from './record'

/**
 * The key of an enhancement: the source bytes, the engine and its version, and the normalized
 * parameters. The file path is not part of it: the same bytes anywhere share one entry.
 */
export function enhancementKey(
  source: Uint8Array,
  provider: { id: string, version: string },
  params: { scale: number | 'auto', type: string },
): string {
  const { scale, type } = params
  return createHash('sha256')
    .update(source)
    .update('\0')
    .update(JSON.stringify({ provider: provider.id, version: provider.version, scale, type }))
    .digest('hex')
}

/** The key of a format conversion of an enhanced image. */
export function variantKey(enhancedKey: string, format: string, quality: number | undefined, width?: number): string {
  const fields = { from: enhancedKey, format, quality: quality ?? null, ...(width ? { width } : {}) }
  return sha256(JSON.stringify(fields))
}
