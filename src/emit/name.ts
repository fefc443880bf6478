import type { ProcessedImage } from '../core/pipeline'

/** `bird@4x.png` → `bird@4x-1a2b3c4d.png`, by content, so a changed image gets a new URL. */
export function hashedName(image: ProcessedImage): string {
  // the cache record's checksum of these bytes: a build of cached images hashes nothing again
  const hash = image.sha256.slice(0, 8)
  const dot = image.fileName.lastIndexOf('.')
  return `${image.fileName.slice(0, dot)}-${hash}${image.fileName.slice(dot)}`
}
