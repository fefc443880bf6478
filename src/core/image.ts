import type { Metadata, Sharp } from 'sharp'
import type { OutputFormat, SourceInfo } from '../types'
import sharp from 'sharp'

/** Formats read from sharp's metadata that the engines take as input. */
const INPUT_FORMATS: Record<string, OutputFormat | 'tiff'> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  tiff: 'tiff',
}
export const SUPPORTED_INPUT = 'JPEG, PNG, WebP, AVIF and TIFF'

export class ImageError extends Error {
  override name = 'ImageError'
}

function formatOf(meta: Metadata): string {
  // sharp names AVIF (and HEIC) 'heif'; only the AV1 flavour is AVIF
  if (meta.format === 'heif')
    return meta.compression === 'av1' ? 'avif' : 'heic'
  return meta.format ?? 'unknown'
}

/** Read the header: format and oriented size. Throws ImageError for what the engines cannot take. */
export async function inspect(source: Uint8Array): Promise<SourceInfo> {
  if (source.length === 0)
    throw new ImageError('the file is empty (0 bytes)')
  let meta: Metadata
  try {
    meta = await sharp(source).metadata()
  }
  catch (error) {
    throw new ImageError(`the file is not an image sharp can read (${(error as Error).message})`)
  }
  const format = formatOf(meta)
  if (!(format in INPUT_FORMATS))
    throw new ImageError(`${format.toUpperCase()} images are not supported; the supported formats are ${SUPPORTED_INPUT}`)
  if ((meta.pages ?? 1) > 1)
    throw new ImageError(`animated or multi-page images are not supported (${meta.pages} pages)`)
  // sharp reads an animated PNG as its first frame alone: it would be flattened without a word
  if (format === 'png' && isAnimatedPng(source))
    throw new ImageError('it is an animated PNG (APNG), and animated images are not supported: only its first frame would be enhanced; '
      + 'export a still image')
  const { width, height } = orientedSize(meta)
  return { format, width, height, depth: meta.depth === 'ushort' && (format === 'png' || format === 'tiff') ? 16 : 8 }
}

/** A PNG with an `acTL` chunk (before its image data) is an APNG. */
function isAnimatedPng(data: Uint8Array): boolean {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  for (let at = 8; at + 8 <= view.length;) {
    const length = view.readUInt32BE(at)
    const type = view.toString('latin1', at + 4, at + 8)
    if (type === 'acTL')
      return true
    if (type === 'IDAT' || type === 'IEND')
      return false
    at += 12 + length
  }
  return false
}

interface Size { width: number, height: number }

/**
 * Whether an enlargement is the source at one of `scales`, to a pixel or two, either way round (a
 * service may not apply the source's EXIF orientation): what API results and remote entries must be.
 */
export function isScaleOf(result: Size, source: Size, scales: number[]): boolean {
  const near = (w: number, h: number, s: number): boolean =>
    Math.abs(result.width - w * s) <= 2 && Math.abs(result.height - h * s) <= 2
  return scales.some(s => near(source.width, source.height, s) || near(source.height, source.width, s))
}

function orientedSize(meta: Metadata): { width: number, height: number } {
  const swap = (meta.orientation ?? 1) >= 5
  return swap ? { width: meta.height!, height: meta.width! } : { width: meta.width!, height: meta.height! }
}

/** The web format an engine writes when the import asks for the original format. */
export function originalOutputFormat(info: SourceInfo): OutputFormat {
  return info.format === 'tiff' ? 'png' : info.format as OutputFormat
}

/** Interleaved pixels: 8-bit samples, or 16-bit ones (native byte order) when `depth` is 16. */
export interface RawImage { data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4, depth: 8 | 16 }

/** Decode to interleaved pixels of the given depth, EXIF orientation applied, in sRGB or greyscale. */
export async function decode(source: Uint8Array, depth: 8 | 16 = 8): Promise<RawImage> {
  const { data, info } = await sharp(source, { failOn: 'error' })
    .autoOrient()
    .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels, depth }
}

export async function encode(raw: RawImage, format: OutputFormat, quality?: number): Promise<Buffer> {
  const { data, width, height, channels, depth } = raw
  if (depth === 16) {
    // 16-bit samples stay 16-bit in a PNG; sharp needs the 16-bit colour space named to write them
    const raw16 = { width, height, channels, depth: 'ushort' } as { width: number, height: number, channels: 1 | 2 | 3 | 4 }
    const image = sharp(data, { raw: raw16 }).toColourspace(channels <= 2 ? 'grey16' : 'rgb16')
    return toFormat(image, format, quality).toBuffer()
  }
  return toFormat(sharp(data, { raw: { width, height, channels } }), format, quality).toBuffer()
}

/** Re-encode an image into another format (or the same one at another quality). */
export async function convert(bytes: Uint8Array, format: OutputFormat, quality?: number, width?: number) {
  const image = sharp(bytes, { failOn: 'error' })
  // a smaller variant: libvips' Lanczos-3 reduce, antialiased, for downscaling only
  if (width)
    image.resize({ width, kernel: 'lanczos3', withoutEnlargement: true })
  return toFormat(image, format, quality).toBuffer()
}

function toFormat(image: Sharp, format: OutputFormat, quality?: number): Sharp {
  switch (format) {
    case 'jpeg': return image.jpeg({ quality: quality ?? 90, mozjpeg: true })
    case 'png': return quality === undefined ? image.png({ compressionLevel: 6 }) : image.png({ quality, palette: quality < 100 })
    case 'webp': return image.webp({ quality: quality ?? 90 })
    // effort 2: about 7× faster to encode than sharp's default (4), for files about 13% larger
    case 'avif': return image.avif({ quality: quality ?? 60, effort: 2 })
  }
}

/**
 * Width, height and format of encoded bytes, after one decode of every pixel (streamed, so memory
 * stays small): a truncated or corrupt file fails here instead of being cached.
 */
export async function checkImage(bytes: Uint8Array, maxPixels: number): Promise<ImageInfo> {
  const meta = await readOutputMeta(bytes)
  if (meta.width * meta.height > maxPixels)
    throw new ImageError(`it is ${meta.width}×${meta.height} px, more than maxOutputPixels (${maxPixels}); it was not decoded`)
  await sharp(bytes, { failOn: 'error', sequentialRead: true, limitInputPixels: maxPixels })
    .resize(16, 16, { fit: 'inside' })
    .raw()
    .toBuffer()
  return meta
}

export interface ImageInfo { width: number, height: number, format: string }

/** Width, height and format of encoded bytes, read from the header, as a module exports them. */
export async function readOutputMeta(bytes: Uint8Array): Promise<ImageInfo> {
  const meta = await sharp(bytes).metadata()
  return { width: meta.width!, height: meta.height!, format: formatOf(meta) }
}
