import type { EnhanceType, ScaleFactor } from '../../../types'
import { addLuma, buckets, filter, luma } from './raisr'
import { fromBytes, lanczos3, resize, toBytes, toWords, unsharp } from './resample'
import { shippedBank } from './weights'

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
 * Enlarge interleaved 8-bit (or 16-bit) pixels by `scale` on the centre-aligned grid with
 * Lanczos-3, then, `learned`: correct the luma with the filter of each pixel's bucket (see
 * raisr.ts), the chroma staying the resampler's; `lanczos` (and scale 1): sharpen mildly. With
 * alpha, everything happens premultiplied, so the colour of transparent pixels never bleeds into
 * the edge.
 */
export function enhancePixels<T extends Uint8Array | Uint16Array>(
  data: T,
  width: number,
  height: number,
  channels: number,
  scale: ScaleFactor,
  type: EnhanceType,
  method: LocalMethod = 'learned',
): T {
  const max = data instanceof Uint16Array ? 65535 : 255
  const hasAlpha = channels === 2 || channels === 4
  const colour = hasAlpha ? channels - 1 : channels
  const img = fromBytes(data, width, height, channels)
  if (hasAlpha)
    premultiply(img.data, channels, colour, max)
  const big = scale === 1 ? img : resize(img, width * scale, height * scale, lanczos3)
  if (method === 'learned' && scale !== 1) {
    const { bank } = shippedBank(scale)
    const y = luma(big)
    // the hash was learned on 8-bit values: 16-bit images are hashed on the same scale
    const hashed = max === 255 ? y : y.map(v => (v * 255) / max)
    const bucketOf = buckets(hashed, big.width, big.height, scale, bank)
    const blend = type === 'face' ? FACE_BLEND : 1
    const corrected = filter(y, big.width, big.height, bank, bucketOf)
    for (let i = 0; i < y.length; i++)
      corrected[i] = y[i] + (corrected[i] - y[i]) * blend
    addLuma(big, y, corrected)
    if (hasAlpha) {
      // alpha takes the same correction as the (premultiplied) colour, so their edges stay together
      const alpha = new Float32Array(y.length)
      for (let i = 0; i < alpha.length; i++)
        alpha[i] = big.data[i * channels + colour]
      const sharpened = filter(alpha, big.width, big.height, bank, bucketOf)
      for (let i = 0; i < alpha.length; i++)
        big.data[i * channels + colour] = alpha[i] + (sharpened[i] - alpha[i]) * blend
    }
  }
  else {
    const { sigma, amount } = sharpenFor(scale, type)
    unsharp(big, sigma, amount)
  }
  if (hasAlpha)
    unpremultiply(big.data, channels, colour, max)
  return (max === 255 ? toBytes(big) : toWords(big)) as T
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
