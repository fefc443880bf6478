/**
 * Hashed, learned filters in the manner of RAISR (Romano, Isidoro, Milanfar, IEEE TCI 2017): the
 * image is first enlarged by a cheap resampler, then each output pixel's luma is replaced by a
 * small linear filter applied around it, chosen by a hash of the local gradient structure (angle,
 * strength, coherence of a Gaussian-weighted structure tensor) and the pixel's place in the
 * scale × scale cell. The filters are learned by least squares (scripts/train-local.mts).
 */
import type { FloatImage } from './resample'
import { blur } from './resample'

export const ANGLES = 24
export const STRENGTHS = 3
export const COHERENCES = 3
/** the structure tensor's Gaussian window */
export const TENSOR_SIGMA = 1.8

/** Learned filters for one scale: `taps`×`taps` weights per bucket, and the hash's thresholds. */
export interface FilterBank {
  scale: number
  taps: number
  /** strength (√λ1) thresholds between the 3 classes */
  strength: [number, number]
  /** coherence thresholds between the 3 classes */
  coherence: [number, number]
  /** buckets × taps² weights, bucket = ((type · ANGLES + angle) · STRENGTHS + strength) · COHERENCES + coherence */
  weights: Float32Array
}

export const bucketsOf = (scale: number): number => scale * scale * ANGLES * STRENGTHS * COHERENCES

/** Luma on the protocol's scale (without its +16 offset): what the filters work on. */
export function luma(img: FloatImage): Float32Array {
  const { data, width, height, channels } = img
  const y = new Float32Array(width * height)
  if (channels < 3) {
    for (let i = 0; i < y.length; i++)
      y[i] = data[i * channels] * (219 / 255)
    return y
  }
  for (let i = 0, p = 0; i < y.length; i++, p += channels)
    y[i] = (65.481 * data[p] + 128.553 * data[p + 1] + 24.966 * data[p + 2]) / 255
  return y
}

/** The gradient features of every pixel: angle bin, √λ1 and coherence, from the structure tensor. */
export function features(y: Float32Array, width: number, height: number, sigma = TENSOR_SIGMA) {
  const tensor = new Float32Array(width * height * 3)
  for (let r = 0; r < height; r++) {
    const up = (r > 0 ? r - 1 : r) * width
    const down = (r < height - 1 ? r + 1 : r) * width
    for (let c = 0; c < width; c++) {
      const gx = (y[r * width + (c < width - 1 ? c + 1 : c)] - y[r * width + (c > 0 ? c - 1 : c)]) * 0.5
      const gy = (y[down + c] - y[up + c]) * 0.5
      const t = (r * width + c) * 3
      tensor[t] = gx * gx
      tensor[t + 1] = gx * gy
      tensor[t + 2] = gy * gy
    }
  }
  const smooth = blur({ data: tensor, width, height, channels: 3 }, sigma).data
  const n = width * height
  const angle = new Uint8Array(n)
  const strength = new Float32Array(n)
  const coherence = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const a = smooth[i * 3]
    const b = smooth[i * 3 + 1]
    const c = smooth[i * 3 + 2]
    const half = (a + c) / 2
    const root = Math.sqrt(Math.max(0, ((a - c) * (a - c)) / 4 + b * b))
    const l1 = Math.max(0, half + root)
    const l2 = Math.max(0, half - root)
    // the dominant gradient direction, folded into [0, π)
    let theta = 0.5 * Math.atan2(2 * b, a - c)
    if (theta < 0)
      theta += Math.PI
    angle[i] = Math.min(ANGLES - 1, Math.floor((theta / Math.PI) * ANGLES))
    const s1 = Math.sqrt(l1)
    const s2 = Math.sqrt(l2)
    strength[i] = s1
    coherence[i] = s1 + s2 > 1e-6 ? (s1 - s2) / (s1 + s2) : 0
  }
  return { angle, strength, coherence }
}

const classOf = (value: number, [low, high]: [number, number]): number => (value < low ? 0 : value < high ? 1 : 2)

/** The bucket of every pixel of an enlarged image (its luma `y`), for a bank's thresholds. */
export function buckets(y: Float32Array, width: number, height: number, scale: number, bank: Pick<FilterBank, 'strength' | 'coherence'> & { sigma?: number }): Uint16Array {
  const { angle, strength, coherence } = features(y, width, height, bank.sigma)
  const out = new Uint16Array(width * height)
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = r * width + c
      const type = (r % scale) * scale + (c % scale)
      const s = classOf(strength[i], bank.strength)
      out[i] = ((type * ANGLES + angle[i]) * STRENGTHS + s) * COHERENCES + classOf(coherence[i], bank.coherence)
    }
  }
  return out
}

/** The taps×taps patch around (r, c), edges clamped, into `out`. */
export function patch(
  y: Float32Array,
  width: number,
  height: number,
  r: number,
  c: number,
  taps: number,
  out: Float32Array,
) {
  const half = taps >> 1
  let k = 0
  for (let dr = -half; dr <= half; dr++) {
    const rr = Math.min(height - 1, Math.max(0, r + dr)) * width
    for (let dc = -half; dc <= half; dc++)
      out[k++] = y[rr + Math.min(width - 1, Math.max(0, c + dc))]
  }
}

/** The filtered luma: each pixel's bucket filter applied to the patch around it. */
export function filter(y: Float32Array, width: number, height: number, bank: FilterBank, bucketOf: Uint16Array) {
  const { taps, weights } = bank
  const half = taps >> 1
  const size = taps * taps
  const out = new Float32Array(y.length)
  const p = new Float32Array(size)
  for (let r = 0; r < height; r++) {
    const inside = r >= half && r < height - half
    for (let c = 0; c < width; c++) {
      const i = r * width + c
      const w = bucketOf[i] * size
      let sum = 0
      if (inside && c >= half && c < width - half) {
        // the common case, without clamping
        let k = 0
        for (let dr = -half; dr <= half; dr++) {
          const row = i + dr * width - half
          for (let dc = 0; dc < taps; dc++)
            sum += weights[w + k++] * y[row + dc]
        }
      }
      else {
        patch(y, width, height, r, c, taps, p)
        for (let k = 0; k < size; k++)
          sum += weights[w + k] * p[k]
      }
      out[i] = sum
    }
  }
  return out
}

/** Add a luma change to every colour channel (keeping the chroma of the cheap enlargement). */
export function addLuma(img: FloatImage, before: Float32Array, after: Float32Array): void {
  const { data, channels } = img
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels
  // Y = (65.481 R + 128.553 G + 24.966 B) / 255: a change of ΔY in each of R, G, B moves Y by 219/255 · ΔY
  const gain = colour === 1 ? 255 / 219 : 255 / 219
  for (let i = 0, p = 0; i < before.length; i++, p += channels) {
    const delta = (after[i] - before[i]) * gain
    for (let k = 0; k < colour; k++)
      data[p + k] += delta
  }
}
