import type { EnhanceType, ScaleFactor } from '../../../types'
import type { DeblockBank } from './deblock'
import type { FilterBank } from './raisr'
import type { FloatImage } from './resample'
import { deblock } from './deblock'
import { channel, enlarge, hashes, luma } from './raisr'
import { fromBytes, lanczos3, resize, toBytes, toWords, unsharp } from './resample'
import { shippedBank, shippedDeblock } from './weights'

/**
 * Unsharp-mask settings per scale: the best PSNR on the T91 training set (never on Set5/Set14)
 * with amount ≤ 1, from `npx tsx scripts/tune-local.mts` (x2: +0.47 dB over plain Lanczos-3,
 * x4: +0.32 dB). Scale 1 only sharpens, lightly. `face` is gentler so skin does not turn gritty.
 */
export const SHARPEN: Record<ScaleFactor, { sigma: number, amount: number }> = {
  1: { sigma: 0.7, amount: 0.3 },
  2: { sigma: 0.7, amount: 1.0 },
  4: { sigma: 1.4, amount: 1.0 },
}
export const FACE_AMOUNT = 0.6

export function sharpenFor(scale: ScaleFactor, type: EnhanceType): { sigma: number, amount: number } {
  const s = SHARPEN[scale]
  return type === 'face' ? { sigma: s.sigma, amount: s.amount * FACE_AMOUNT } : s
}

/** How the local engine enlarges: learned filters (the default), or Lanczos-3 and a tuned unsharp mask. */
export type LocalMethod = 'learned' | 'lanczos'

/** `face`: the learned correction applied at this strength, so skin does not turn gritty. */
export const FACE_BLEND = 0.6

/**
 * Enlarge interleaved 8-bit (or 16-bit) pixels by `scale` on the centre-aligned grid: `learned`,
 * the luma by learned filters and the chroma by Lanczos-3 (see `learned`); `lanczos` (and scale
 * 1), Lanczos-3 and a mild sharpening. With alpha, everything happens premultiplied, so the colour
 * of transparent pixels never bleeds into the edge. `jpeg`, the quality of a JPEG source (jpeg.ts):
 * `learned` first takes its compression artifacts out with the band's learned correction
 * (`correctJpeg`), and at scale 1 that correction is the whole enhancement.
 */
export function enhancePixels<T extends Uint8Array | Uint16Array>(
  data: T,
  width: number,
  height: number,
  channels: number,
  scale: ScaleFactor,
  type: EnhanceType,
  method: LocalMethod = 'learned',
  jpeg?: number,
): T {
  const max = data instanceof Uint16Array ? 65535 : 255
  const hasAlpha = channels === 2 || channels === 4
  const colour = hasAlpha ? channels - 1 : channels
  const img = fromBytes(data, width, height, channels)
  if (hasAlpha)
    premultiply(img.data, channels, colour, max)
  const corrected = method === 'learned' && jpeg !== undefined && max === 255 && correctJpeg(img, jpeg, type)
  let big: FloatImage
  if (corrected && scale === 1) {
    big = img
  }
  else if (method === 'learned' && scale !== 1) {
    // 8-bit without alpha: written as bytes at once (the same rounding as toBytes)
    if (max === 255 && !hasAlpha)
      return new Uint8Array(learned(img, scale, type, { output: Uint8ClampedArray }).data.buffer) as T
    big = learned(img, scale, type, { max })
  }
  else {
    big = scale === 1 ? img : resize(img, width * scale, height * scale, lanczos3)
    const { sigma, amount } = sharpenFor(scale, type)
    unsharp(big, sigma, amount)
  }
  if (hasAlpha)
    unpremultiply(big.data, channels, colour, max)
  return (max === 255 ? toBytes(big) : toWords(big)) as T
}

/**
 * A decoded JPEG (8-bit, premultiplied if it had alpha) with its compression artifacts corrected
 * in place by the learned bank of its quality band (deblock.ts): the luma's correction added to
 * every colour channel alike, so the chroma is kept (`face`: FACE_BLEND of the correction). False
 * where no bank covers the quality (above the highest band).
 */
export function correctJpeg(img: FloatImage, quality: number, type: EnhanceType): boolean {
  const bank = shippedDeblock(quality)
  if (bank)
    correctWith(img, bank, type)
  return bank !== undefined
}

/** `correctJpeg` with a given bank. */
export function correctWith(img: FloatImage, bank: DeblockBank, type: EnhanceType = 'clean'): FloatImage {
  const { data, width, height, channels } = img
  const y = luma(img)
  const fixed = deblock(y, width, height, bank)
  // every colour channel (grey: the one) moves by Δ where the luma moves by (219/255)·Δ (see `learned`)
  const colours = channels >= 3 ? 3 : 1
  const gain = (255 / 219) * (type === 'face' ? FACE_BLEND : 1)
  for (let i = 0, p = 0; i < y.length; i++, p += channels) {
    const shift = (fixed[i] - y[i]) * gain
    for (let k = 0; k < colours; k++)
      data[p + k] += shift
  }
  return img
}

interface LearnedOptions<Output = Float32ArrayConstructor | Uint8ClampedArrayConstructor> {
  /** the samples' range: 255, or 65535 for 16-bit */
  max?: number
  bank?: FilterBank
  /** where the pixels go: floats, or bytes (clamped and rounded as they are written) */
  output?: Output
}

/**
 * The learned enlargement of a (premultiplied) float image: luma, and alpha, from the bank's
 * filters (see raisr.ts); the chroma (each colour less its share of the luma) from Lanczos-3. The
 * same as enlarging everything with Lanczos-3 and then replacing its luma, in two planes where that
 * takes four. `face` takes the filters FACE_BLEND of the way from the plain resampler.
 */
type ByteImage = Omit<FloatImage, 'data'> & { data: Uint8ClampedArray }
type AsFloats = LearnedOptions<Float32ArrayConstructor>
type AsBytes = LearnedOptions<Uint8ClampedArrayConstructor>
export function learned(img: FloatImage, scale: 2 | 4, type: EnhanceType, options?: AsFloats): FloatImage
export function learned(img: FloatImage, scale: 2 | 4, type: EnhanceType, options: AsBytes): ByteImage
export function learned(
  img: FloatImage,
  scale: 2 | 4,
  type: EnhanceType,
  { max = 255, bank = shippedBank(scale), output = Float32Array }: LearnedOptions = {},
): FloatImage | ByteImage {
  const { data, width, height, channels } = img
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels
  const outWidth = width * scale
  const outHeight = height * scale
  const small = luma(img)
  // the hash was learned on 8-bit values: 16-bit images are hashed on the same scale
  const hashOf = hashes(max === 255 ? small : small.map(v => (v * 255) / max), width, height, bank)
  const filtered = (plane: Float32Array): Float32Array => {
    const out = enlarge(plane, width, height, bank, hashOf)
    if (type === 'face') {
      const plain = resize({ data: plane, width, height, channels: 1 }, outWidth, outHeight, lanczos3).data
      for (let i = 0; i < out.length; i++)
        out[i] = plain[i] + (out[i] - plain[i]) * FACE_BLEND
    }
    return out
  }
  const y = filtered(small)
  const out = new output(outWidth * outHeight * channels)
  // Y = (65.481 R + 128.553 G + 24.966 B) / 255: R = G = B = 255/219 · Y is grey of luma Y
  const gain = 255 / 219
  if (colour === 3) {
    const rest = new Float32Array(width * height * 2)
    for (let i = 0, p = 0; i < small.length; i++, p += channels) {
      rest[2 * i] = data[p] - gain * small[i]
      rest[2 * i + 1] = data[p + 2] - gain * small[i]
    }
    const chroma = resize({ data: rest, width, height, channels: 2 }, outWidth, outHeight, lanczos3).data
    for (let i = 0, p = 0; i < y.length; i++, p += channels) {
      const grey = gain * y[i]
      const r = chroma[2 * i]
      const b = chroma[2 * i + 1]
      out[p] = grey + r
      // green's share keeps the luma: 65.481 r + 128.553 g + 24.966 b = 0
      out[p + 1] = grey - (65.481 * r + 24.966 * b) / 128.553
      out[p + 2] = grey + b
    }
  }
  else {
    for (let i = 0, p = 0; i < y.length; i++, p += channels)
      out[p] = gain * y[i]
  }
  if (colour !== channels) {
    // alpha takes the same filters as the (premultiplied) colour, so their edges stay together
    const alpha = filtered(channel(img, colour))
    for (let i = 0, p = colour; i < alpha.length; i++, p += channels)
      out[p] = alpha[i]
  }
  return { data: out, width: outWidth, height: outHeight, channels } as FloatImage | ByteImage
}

function premultiply(d: Float32Array, c: number, colour: number, max: number): void {
  for (let i = 0; i < d.length; i += c) {
    const a = d[i + colour] / max
    for (let k = 0; k < colour; k++)
      d[i + k] *= a
  }
}

function unpremultiply(d: Float32Array, c: number, colour: number, max: number): void {
  for (let i = 0; i < d.length; i += c) {
    const a = Math.min(max, Math.max(0, d[i + colour]))
    d[i + colour] = a
    for (let k = 0; k < colour; k++)
      d[i + k] = a > 0 ? Math.min(a, Math.max(0, d[i + k])) * max / a : 0
  }
}
