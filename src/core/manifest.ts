import type { EnhanceType, ScaleFactor } from '../types'
import type { ProcessedImage } from './pipeline'
import type { Placeholder } from './placeholder'

/** What `upscale()` returns, and what the CLI's `--json` prints for each image. */
export interface UpscaleResult extends Placeholder {
  /** `urlPath` + the file name */
  src: string
  /** the enhanced file: in `outputDir` when given, else in the cache */
  file: string
  width: number
  height: number
  format: 'jpeg' | 'png' | 'webp' | 'avif'
  originalWidth: number
  originalHeight: number
  scale: ScaleFactor
  type: EnhanceType
  /** true when the enhancement came from the cache (nothing was paid or computed) */
  cached: boolean
  /** the cache key of the file */
  key: string
  /** the source: its path, or `name` for bytes */
  source: string
  /** with `w` or several formats: every variant, by format then width */
  variants?: UpscaleResult[]
}

/** The manifest entry of an image written to `file` and served at `src` (the CLI's `--json` too). */
export function resultOf(image: ProcessedImage, file: string, src: string): Omit<UpscaleResult, 'source'> {
  const { metadata } = image
  return {
    src,
    file,
    width: metadata.width,
    height: metadata.height,
    format: metadata.format as UpscaleResult['format'],
    originalWidth: metadata.originalWidth,
    originalHeight: metadata.originalHeight,
    scale: metadata.scale,
    type: metadata.type,
    cached: image.cached,
    key: image.key,
    blurDataURL: metadata.blurDataURL!,
    blurWidth: metadata.blurWidth!,
    blurHeight: metadata.blurHeight!,
    dominantColor: metadata.dominantColor!,
  }
}
