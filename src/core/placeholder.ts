import sharp from 'sharp'

/** What every metadata shape carries beside the image: a blurred thumbnail and a colour. */
export interface Placeholder {
  /** a tiny blurred copy of the enhanced image, `data:image/webp;base64,…` (a few hundred bytes) */
  blurDataURL: string
  /** its size: the long side is PLACEHOLDER_SIDE, the other in proportion (what `next/image` reads) */
  blurWidth: number
  blurHeight: number
  /** the most common colour of the image, `#rrggbb` */
  dominantColor: string
}

/** The placeholder's long side, in pixels. */
export const PLACEHOLDER_SIDE = 16
/** bump when the placeholder changes, so cached ones are made again */
export const PLACEHOLDER_VERSION = 'blur-1'

/**
 * The tiny image (WebP) and the dominant colour of an encoded image: one decode, shrunk on load
 * where the format allows, to 64 px (the colour is counted there), then to 16 px and blurred.
 */
export async function makePlaceholder(bytes: Uint8Array): Promise<{ data: Buffer, dominantColor: string }> {
  const { data: small, info } = await sharp(bytes, { failOn: 'error' })
    .rotate()
    .resize(64, 64, { fit: 'inside', kernel: 'cubic' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } }
  const { dominant } = await sharp(small, raw).stats()
  const data = await sharp(small, raw)
    .resize(PLACEHOLDER_SIDE, PLACEHOLDER_SIDE, { fit: 'inside', kernel: 'cubic' })
    .blur(0.8)
    .webp({ quality: 70, smartSubsample: false, effort: 4 })
    .toBuffer()
  const hex = (n: number): string => n.toString(16).padStart(2, '0')
  return { data, dominantColor: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}` }
}

/** Shapes that carry placeholders: every metadata shape; a URL or a srcset string stays as small as it was. */
export const wantsPlaceholder = (params: { as: string }): boolean => params.as !== 'url' && params.as !== 'srcset'

/** The fields of a placeholder image and its colour. */
export function placeholderFields(data: Buffer, width: number, height: number, dominantColor: string): Placeholder {
  return { blurDataURL: `data:image/webp;base64,${data.toString('base64')}`, blurWidth: width, blurHeight: height, dominantColor }
}
