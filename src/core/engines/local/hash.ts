/**
 * The hash of the RAISR-style engine (see raisr.ts): every pixel of the small image is classed by
 * the angle, strength and coherence of its smoothed structure tensor. Also the luma and channel
 * planes the filters work on.
 */
import type { FloatImage } from './resample'

/** angle bins of 7.5° (see `sector`) */
export const ANGLES = 24
export const STRENGTHS = 3
export const COHERENCES = 3
export const HASHES = ANGLES * STRENGTHS * COHERENCES

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

/** One channel of an interleaved image. */
export function channel(img: FloatImage, k: number): Float32Array {
  const out = new Float32Array(img.width * img.height)
  for (let i = 0, p = k; i < out.length; i++, p += img.channels)
    out[i] = img.data[p]
  return out
}

/** 1-4-6-4-1 / 16 along rows, then along columns (a binomial window, σ = 1), edges clamped. */
function smooth(v: Float32Array, width: number, height: number): Float32Array {
  const across = new Float32Array(v.length)
  const last = width - 1
  for (let r = 0; r < height; r++) {
    const o = r * width
    for (let c = 0; c < width; c++) {
      const l2 = v[o + (c > 1 ? c - 2 : 0)]
      const l1 = v[o + (c > 0 ? c - 1 : 0)]
      const r1 = v[o + (c < last ? c + 1 : last)]
      const r2 = v[o + (c < last - 1 ? c + 2 : last)]
      across[o + c] = (l2 + r2 + 4 * (l1 + r1) + 6 * v[o + c]) * 0.0625
    }
  }
  const out = new Float32Array(v.length)
  for (let r = 0; r < height; r++) {
    const u2 = Math.max(0, r - 2) * width
    const u1 = Math.max(0, r - 1) * width
    const d1 = Math.min(height - 1, r + 1) * width
    const d2 = Math.min(height - 1, r + 2) * width
    const o = r * width
    for (let c = 0; c < width; c++) {
      const near = across[u1 + c] + across[d1 + c]
      out[o + c] = (across[u2 + c] + across[d2 + c] + 4 * near + 6 * across[o + c]) * 0.0625
    }
  }
  return out
}

/** The structure tensor of every pixel: central-difference gradients' products, smoothed. */
function structure(y: Float32Array, width: number, height: number) {
  const n = width * height
  const xx = new Float32Array(n)
  const xy = new Float32Array(n)
  const yy = new Float32Array(n)
  for (let r = 0; r < height; r++) {
    const up = (r > 0 ? r - 1 : r) * width
    const down = (r < height - 1 ? r + 1 : r) * width
    for (let c = 0; c < width; c++) {
      const i = r * width + c
      const gx = (y[r * width + (c < width - 1 ? c + 1 : c)] - y[r * width + (c > 0 ? c - 1 : c)]) * 0.5
      const gy = (y[down + c] - y[up + c]) * 0.5
      xx[i] = gx * gx
      xy[i] = gx * gy
      yy[i] = gy * gy
    }
  }
  return { xx: smooth(xx, width, height), xy: smooth(xy, width, height), yy: smooth(yy, width, height) }
}

const TAN15 = Math.tan(Math.PI / 12)
const TAN30 = Math.tan(Math.PI / 6)

/**
 * Which of 24 sectors of 15° the vector (u, v) points into, counted from the positive u axis: the
 * same as ⌊atan2(v, u) mod 2π ÷ 15°⌋ without the arctangent. For the tensor's (a − c, 2b) it is the
 * dominant gradient's direction θ, folded into [0, π), in bins of 7.5°.
 */
function sector(u: number, v: number): number {
  const x = Math.abs(u)
  const y = Math.abs(v)
  const steep = y > x
  // the first octant: 0, 1 or 2 sectors from the nearer axis
  const t = steep ? x / y : x > 0 ? y / x : 0
  const s = t < TAN15 ? 0 : t < TAN30 ? 1 : 2
  const quadrant = steep ? 5 - s : s
  if (u >= 0)
    return v >= 0 ? quadrant : 23 - quadrant
  return v >= 0 ? 11 - quadrant : 12 + quadrant
}

/** √λ1 and √λ2 of the tensor [a b; b c] are √(half ± root). */
const rootOf = (a: number, b: number, c: number): number => Math.sqrt(Math.max(0, ((a - c) * (a - c)) / 4 + b * b))
/** (√λ1 − √λ2) / (√λ1 + √λ2): 0 where the gradients point every way, 1 along a clean edge. */
const coherenceOf = (s1: number, s2: number): number => (s1 + s2 > 1e-6 ? (s1 - s2) / (s1 + s2) : 0)

/** Strength (√λ1) and coherence of every pixel: what the thresholds are learned from. */
export function features(y: Float32Array, width: number, height: number) {
  const { xx, xy, yy } = structure(y, width, height)
  const strength = new Float32Array(xx.length)
  const coherence = new Float32Array(xx.length)
  for (let i = 0; i < xx.length; i++) {
    const half = (xx[i] + yy[i]) / 2
    const root = rootOf(xx[i], xy[i], yy[i])
    strength[i] = Math.sqrt(Math.max(0, half + root))
    coherence[i] = coherenceOf(strength[i], Math.sqrt(Math.max(0, half - root)))
  }
  return { strength, coherence }
}

/** A bank's thresholds between the 3 strength and the 3 coherence classes. */
export interface HashSettings { strength: [number, number], coherence: [number, number] }

/**
 * The hash of every pixel of a small image (its luma `y`), for a bank's thresholds: the angle bin,
 * strength class and coherence class of its structure tensor.
 */
export function hashes(y: Float32Array, width: number, height: number, bank: HashSettings): Uint8Array {
  const { xx, xy, yy } = structure(y, width, height)
  const [weak, strong] = bank.strength
  const [loose, tight] = bank.coherence
  const out = new Uint8Array(xx.length)
  for (let i = 0; i < out.length; i++) {
    const a = xx[i]
    const b = xy[i]
    const c = yy[i]
    const half = (a + c) / 2
    const root = rootOf(a, b, c)
    const s1 = Math.sqrt(Math.max(0, half + root))
    const coherence = coherenceOf(s1, Math.sqrt(Math.max(0, half - root)))
    const strength = s1 < weak ? 0 : s1 < strong ? 1 : 2
    const coherent = coherence < loose ? 0 : coherence < tight ? 1 : 2
    out[i] = (sector(a - c, 2 * b) * STRENGTHS + strength) * COHERENCES + coherent
  }
  return out
}
