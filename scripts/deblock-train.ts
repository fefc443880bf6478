/**
 * Train the JPEG artifact-removal banks (src/core/engines/local/deblock.ts) by closed-form least
 * squares, as raisr-train.ts trains the enlargement: T91 images (at full size and shrunk by the
 * measuring protocol's bicubic to a half and a quarter, as the small inputs of x2 and x4 are), in
 * their 8 flips and rotations, each saved as a JPEG by sharp's default encoder (4:2:0 chroma) at a
 * quality cycling through the band, decoded, and the decoded luma's patches fitted to the
 * correction that gives back the luma before compression. Deterministic.
 */
import type { DeblockBank } from '../src/core/engines/local/deblock'
import type { FloatImage } from '../src/core/engines/local/resample'
import type { Input } from './raisr-train'
import sharp from 'sharp'
import { loadRgb, quantize } from '../bench/quality'
import { deblockFilters, deblockIndex } from '../src/core/engines/local/deblock'
import { correctWith } from '../src/core/engines/local/pixels'
import { features, luma, patch } from '../src/core/engines/local/raisr'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { augmented, solve } from './raisr-train'

/** An RGB float image saved as a JPEG by sharp's default encoder at `quality`, and decoded again. */
export async function jpegOf(img: FloatImage, quality: number): Promise<FloatImage> {
  const raw = { width: img.width, height: img.height, channels: 3 as const }
  const bytes = Uint8Array.from(img.data, v => Math.min(255, Math.max(0, Math.round(v))))
  const file = await sharp(Buffer.from(bytes), { raw }).jpeg({ quality }).toBuffer()
  return loadRgb(file)
}

export const DEBLOCK = { taps: 7, factors: [1, 2, 4], ridge: 1e-5 }

export interface DeblockOptions {
  quality: [number, number]
  taps?: number
  factors?: number[]
  ridge?: number
  /** a bank the decoded JPEGs are corrected by first: this one learns what is left (a second pass) */
  before?: DeblockBank
  log?: (line: string) => void
}

const shrink = (img: FloatImage, factor: number): FloatImage =>
  factor === 1 ? img : quantize(resize(img, Math.round(img.width / factor), Math.round(img.height / factor), bicubic))

const tertiles = (values: number[]): [number, number] => {
  const sorted = Float32Array.from(values).sort()
  return [sorted[Math.floor(sorted.length / 3)], sorted[Math.floor((2 * sorted.length) / 3)]]
}

export async function trainDeblock(files: string[], options: DeblockOptions): Promise<DeblockBank> {
  const { quality, taps = DEBLOCK.taps, factors = DEBLOCK.factors, ridge = DEBLOCK.ridge, log = () => {} } = options
  const qualities = Array.from({ length: quality[1] - quality[0] + 1 }, (_, i) => quality[0] + i)
  const size = taps * taps
  // the hash's thresholds: tertiles over the decoded JPEGs at the band's middle quality
  const strengths: number[] = []
  const coherences: number[] = []
  const middle = qualities[qualities.length >> 1]
  for (const file of files) {
    const jpeg = await jpegOf(shrink(await loadRgb(file), 2), middle)
    const decoded = options.before ? correctWith(jpeg, options.before) : jpeg
    const f = features(luma(decoded), decoded.width, decoded.height)
    for (let i = 0; i < f.strength.length; i += 3) {
      strengths.push(f.strength[i])
      coherences.push(f.coherence[i])
    }
  }
  const settings = { strength: tertiles(strengths), coherence: tertiles(coherences) }
  const count = deblockFilters
  const ata = new Float64Array(count * size * size)
  const atb = new Float64Array(count * size)
  const samples = new Float64Array(count)
  const p = new Float64Array(size)
  let n = 0
  for (const file of files) {
    const original = await loadRgb(file)
    for (const factor of factors) {
      for (const clean of augmented(shrink(original, factor))) {
        const jpeg = await jpegOf(clean, qualities[n++ % qualities.length])
        const decoded = options.before ? correctWith(jpeg, options.before) : jpeg
        const { width, height } = decoded
        const x = luma(decoded)
        const target = luma(clean)
        const index = deblockIndex(x, width, height, settings)
        for (let r = 0; r < height; r++) {
          for (let c = 0; c < width; c++) {
            const i = r * width + c
            const f = index[i]
            patch(x, width, height, r, c, taps, p)
            const base = f * size * size
            const residual = target[i] - x[i]
            for (let m = 0; m < size; m++) {
              const pm = p[m]
              const row = base + m * size
              for (let k = m; k < size; k++)
                ata[row + k] += pm * p[k]
              atb[f * size + m] += pm * residual
            }
            samples[f]++
          }
        }
      }
    }
  }
  // a filter with too few samples makes no correction
  const weights = new Float32Array(count * size)
  let none = 0
  for (let f = 0; f < count; f++) {
    if (samples[f] < 4 * size) {
      none++
      continue
    }
    const a = ata.subarray(f * size * size, (f + 1) * size * size)
    weights.set(solve(a, atb.subarray(f * size, (f + 1) * size), size, ridge), f * size)
  }
  log(`q${quality[0]}–${quality[1]}: ${n} JPEGs, ${count} filters, ${none} make no correction`)
  return { quality, taps, ...settings, weights }
}

/**
 * The input of an enlargement bank for a band of JPEG quality: the protocol's small image saved as
 * a JPEG at a quality cycling through the band, decoded, and corrected by the band's bank.
 */
export const jpegInput = (bank: DeblockBank): Input => async (small, n) => {
  const [low, high] = bank.quality
  return correctWith(await jpegOf(small, low + (n % (high - low + 1))), bank)
}
