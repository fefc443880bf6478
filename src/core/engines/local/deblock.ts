/**
 * Learned JPEG artifact removal, on the image's own grid (scale 1): every luma pixel of the decoded
 * JPEG is hashed as for enlargement (angle, strength, coherence of its structure tensor, see
 * hash.ts) and by where it sits in its 8 × 8 block (first row or column, last, inside: 9 places),
 * and gets a learned correction — a taps × taps filter of the patch around it added to the pixel.
 * One bank per band of JPEG quality (estimated from the file's quantisation tables, jpeg.ts), learned
 * by scripts/deblock-train.ts on JPEG copies of T91 at those qualities.
 */
import type { HashSettings } from './hash'
import { hashes, HASHES } from './hash'

export interface DeblockBank extends HashSettings {
  /** the JPEG qualities the bank was trained on, inclusive: [lowest, highest] */
  quality: [number, number]
  taps: number
  /** (hash · PLACES + place) · taps² weights: the correction of the patch around the pixel */
  weights: Float32Array
}

/** where a pixel sits in its 8 × 8 block along one axis: 0 the first row (or column), 1 the last, 2 inside */
export const placeOf = (i: number): number => ((i & 7) === 0 ? 0 : (i & 7) === 7 ? 1 : 2)
export const PLACES = 9
export const deblockFilters = HASHES * PLACES

/** The filter of each pixel: its hash, and its place in the 8 × 8 block. */
export function deblockIndex(y: Float32Array, width: number, height: number, bank: HashSettings): Uint16Array {
  const hashOf = hashes(y, width, height, bank)
  const out = new Uint16Array(hashOf.length)
  for (let r = 0; r < height; r++) {
    const row = placeOf(r) * 3
    for (let c = 0, i = r * width; c < width; c++, i++)
      out[i] = hashOf[i] * PLACES + row + placeOf(c)
  }
  return out
}

/** The luma plane `y` (width × height, the JPEG's own grid) with the bank's corrections added. */
export function deblock(y: Float32Array, width: number, height: number, bank: DeblockBank): Float32Array {
  const { taps, weights } = bank
  const size = taps * taps
  const half = taps >> 1
  const index = deblockIndex(y, width, height, bank)
  const out = new Float32Array(y.length)
  for (let r = 0; r < height; r++) {
    const inside = r >= half && r < height - half
    for (let c = 0, i = r * width; c < width; c++, i++) {
      let w = index[i] * size
      let sum = 0
      if (inside && c >= half && c < width - half) {
        for (let dr = -half; dr <= half; dr++) {
          const row = i + dr * width - half
          for (let k = 0; k < taps; k++, w++)
            sum += weights[w] * y[row + k]
        }
      }
      else {
        for (let dr = -half; dr <= half; dr++) {
          const row = Math.min(height - 1, Math.max(0, r + dr)) * width
          for (let dc = -half; dc <= half; dc++, w++)
            sum += weights[w] * y[row + Math.min(width - 1, Math.max(0, c + dc))]
        }
      }
      out[i] = y[i] + sum
    }
  }
  return out
}
