import type { ProcessedImage } from '../core/pipeline'
import { createHash } from 'node:crypto'

/** `bird@4x.png` → `bird@4x-1a2b3c4d.png`, by content, so a changed image gets a new URL. */
export function hashedName(image: ProcessedImage): string {
  const hash = createHash('sha256').update(image.data).digest('hex').slice(0, 8)
  const dot = image.fileName.lastIndexOf('.')
  return `${image.fileName.slice(0, dot)}-${hash}${image.fileName.slice(dot)}`
}
