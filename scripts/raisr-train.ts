/**
 * Train the local engine's filter banks by closed-form least squares: for every T91 image and its
 * 8 flips and rotations, the HR image is shrunk by the measuring protocol's bicubic, and every
 * pixel of the small image adds its patch to its hash's AᵀA, and its patch times each HR pixel of
 * its cell to that place's Aᵀb. Each filter is solved with a small ridge; a hash with too few
 * samples takes the filters learned over all hashes. Deterministic: the same images give the same
 * bytes.
 */
import type { FilterBank } from '../src/core/engines/local/raisr'
import type { FloatImage } from '../src/core/engines/local/resample'
import { degrade, loadRgb, modcrop, quantize } from '../bench/quality'
import { COHERENCES, features, filtered, filtersOf, hashes, HASHES, luma, patch, STRENGTHS } from '../src/core/engines/local/raisr'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { kernel, useSimd } from '../src/core/engines/local/simd'
import { decodeBank, encodeBank } from '../src/core/engines/local/weights'

/** The 8 flips and rotations of an image. */
export function* augmented(img: FloatImage): Generator<FloatImage> {
  let current = img
  for (let rotation = 0; rotation < 4; rotation++) {
    yield current
    yield flip(current)
    current = rotate(current)
  }
}

/** A quarter turn clockwise: pixel (r, c) goes to (c, height − 1 − r). */
const rotate = (img: FloatImage): FloatImage =>
  remap(img, img.height, img.width, (r, c) => c * img.height + (img.height - 1 - r))

/** A mirror image, left to right. */
const flip = (img: FloatImage): FloatImage =>
  remap(img, img.width, img.height, (r, c) => r * img.width + (img.width - 1 - c))

/** Every pixel moved to the index `to` gives it, in an image of the given size. */
function remap(img: FloatImage, outWidth: number, outHeight: number, to: (r: number, c: number) => number): FloatImage {
  const { data, width, height, channels } = img
  const out = new Float32Array(data.length)
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const target = to(r, c) * channels
      const from = (r * width + c) * channels
      for (let k = 0; k < channels; k++)
        out[target + k] = data[from + k]
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels }
}

interface Pair { small: Float32Array, hr: Float32Array, width: number, height: number }

/**
 * The small (degraded) luma and the HR luma, for every training image at every size (shrunk by
 * bicubic and rounded, as FSRCNN trains on T91: more kinds of detail from the same 91 photos) and
 * in its 8 flips and rotations.
 */
async function* pairs(files: string[], scale: number, sizes: number[], input?: Input): AsyncGenerator<Pair> {
  let n = 0
  for (const file of files) {
    const original = await loadRgb(file)
    for (const size of sizes) {
      const [width, height] = [Math.round(original.width * size), Math.round(original.height * size)]
      const sized = size === 1 ? original : quantize(resize(original, width, height, bicubic))
      for (const image of augmented(modcrop(sized, scale))) {
        const lr = input ? await input(degrade(image, scale), n++) : degrade(image, scale)
        yield { small: luma(lr), hr: luma(image), width: lr.width, height: lr.height }
      }
    }
  }
}

/** What the filters are trained to enlarge, from the protocol's small image (the nth of the run): a JPEG of it, say. */
export type Input = (small: FloatImage, n: number) => Promise<FloatImage>

const tertiles = (values: Float32Array): [number, number] => {
  const sorted = Float32Array.from(values).sort()
  return [sorted[Math.floor(sorted.length / 3)], sorted[Math.floor((2 * sorted.length) / 3)]]
}

export interface TrainOptions {
  scale: 2 | 4
  /** the patch of the small image: 7 × 7 (see docs/quality.md for the choice) */
  taps?: number
  /**
   * ridge, relative to the mean diagonal of AᵀA: small, since every hash has thousands of samples
   * (on 20 T91 images, Set5 x2 went from 35.41 dB at 1e-3 to 35.89 at 1e-5 and 35.91 at 1e-7)
   */
  ridge?: number
  /** the sizes each training image is also used at */
  sizes?: number[]
  /** the second stage's patch on the enlarged image (0: no second stage) */
  refineTaps?: number
  /** the small images the filters see, made from the protocol's (default: the protocol's own) */
  input?: Input
  /** fewer samples than this × taps² and a hash takes the filters learned over all hashes */
  minSamples?: number
  log?: (line: string) => void
}

export const TRAINING = { taps: 7, sizes: [1, 0.9, 0.8, 0.7, 0.6], refineTaps: 5 }

export async function train(files: string[], options: TrainOptions): Promise<FilterBank> {
  const { scale, taps = TRAINING.taps, sizes = TRAINING.sizes, refineTaps = TRAINING.refineTaps } = options
  const { ridge = 1e-6, minSamples = 2, log = () => {} } = options
  const size = taps * taps
  const half = taps >> 1
  const cell = scale * scale
  // the hash's thresholds: tertiles of strength and coherence over the training set (unaugmented)
  const strengths: number[] = []
  const coherences: number[] = []
  for (const [n, file] of files.entries()) {
    const lr = degrade(modcrop(await loadRgb(file), scale), scale)
    const small = options.input ? await options.input(lr, n) : lr
    const f = features(luma(small), small.width, small.height)
    for (let i = 0; i < f.strength.length; i += 3) {
      strengths.push(f.strength[i])
      coherences.push(f.coherence[i])
    }
  }
  const strength = tertiles(Float32Array.from(strengths))
  const coherence = tertiles(Float32Array.from(coherences))
  log(`x${scale}: thresholds strength ${strength.map(v => v.toFixed(2))}, coherence ${coherence.map(v => v.toFixed(3))}`)

  // the patch is the same for every place in the cell: one AᵀA per hash, one Aᵀb per filter
  const ata = new Float64Array(HASHES * size * size)
  const atb = new Float64Array(filtersOf(scale) * size)
  const samples = new Float64Array(HASHES)
  const p = new Float64Array(size)
  let images = 0
  for await (const { small, hr, width, height } of pairs(files, scale, sizes, options.input)) {
    const hashOf = hashes(small, width, height, { strength, coherence })
    const outWidth = width * scale
    for (let r = half; r < height - half; r++) {
      for (let c = half; c < width - half; c++) {
        const h = hashOf[r * width + c]
        patch(small, width, height, r, c, taps, p)
        const base = h * size * size
        for (let m = 0; m < size; m++) {
          const pm = p[m]
          const row = base + m * size
          for (let n = m; n < size; n++)
            ata[row + n] += pm * p[n]
        }
        for (let t = 0; t < cell; t++) {
          const target = hr[(r * scale + Math.floor(t / scale)) * outWidth + c * scale + (t % scale)]
          const b = (h * cell + t) * size
          for (let m = 0; m < size; m++)
            atb[b + m] += p[m] * target
        }
        samples[h]++
      }
    }
    if (++images % 80 === 0)
      log(`x${scale}: ${images} images`)
  }

  // the fallback: all hashes together, per place in the cell
  const all = new Float64Array(size * size)
  for (let h = 0; h < HASHES; h++) {
    for (let i = 0; i < size * size; i++)
      all[i] += ata[h * size * size + i]
  }
  const weights = new Float32Array(filtersOf(scale) * size)
  let fallbacks = 0
  for (let h = 0; h < HASHES; h++) {
    const few = samples[h] < minSamples * size
    fallbacks += few ? 1 : 0
    for (let t = 0; t < cell; t++) {
      let a = ata.subarray(h * size * size, (h + 1) * size * size)
      let b = atb.subarray((h * cell + t) * size, (h * cell + t + 1) * size)
      if (few) {
        a = all
        b = new Float64Array(size)
        for (let g = 0; g < HASHES; g++) {
          for (let m = 0; m < size; m++)
            b[m] += atb[(g * cell + t) * size + m]
        }
      }
      weights.set(solve(a, b, size, ridge), (h * cell + t) * size)
    }
  }
  log(`x${scale}: ${HASHES} hashes × ${cell} places, ${fallbacks} hashes from the filters of all`)
  const bank: FilterBank = { scale, taps, strength, coherence, weights }
  if (!refineTaps)
    return bank
  return { ...bank, refine: await trainRefine(files, bank, { ...options, taps: refineTaps, ridge, sizes, minSamples }) }
}

/**
 * The second stage: on what the first makes (its weights rounded as they ship), per hash and
 * place, a refineTaps × refineTaps filter of the first stage's output around each output pixel.
 * The weakest gradients, and a filter with too few samples, leave the first stage's pixel as it is.
 */
async function trainRefine(files: string[], bank: FilterBank, options: Required<Pick<TrainOptions, 'taps' | 'ridge' | 'sizes' | 'minSamples'>> & TrainOptions) {
  const { scale } = bank
  const { taps, ridge, sizes, minSamples, log = () => {} } = options
  const shipped = decodeBank(encodeBank(bank))
  // the first stage's output on the JavaScript kernel, on every machine: WebAssembly SIMD rounds a
  // little differently (and is not everywhere), and the shipped banks were learned this way
  const simd = kernel() === 'simd'
  useSimd(false)
  const size = taps * taps
  const half = taps >> 1
  const cell = scale * scale
  const count = filtersOf(scale)
  const ata = new Float64Array(count * size * size)
  const atb = new Float64Array(count * size)
  const samples = new Float64Array(count)
  const p = new Float64Array(size)
  for await (const { small, hr, width, height } of pairs(files, scale, sizes, options.input)) {
    const hashOf = hashes(small, width, height, bank)
    const first = filtered(small, width, height, shipped, hashOf)
    const outWidth = width * scale
    const outHeight = height * scale
    for (let r = half; r < outHeight - half; r++) {
      for (let c = half; c < outWidth - half; c++) {
        const hash = hashOf[Math.floor(r / scale) * width + Math.floor(c / scale)]
        const f = hash * cell + (r % scale) * scale + (c % scale)
        patch(first, outWidth, outHeight, r, c, taps, p)
        const base = f * size * size
        const target = hr[r * outWidth + c]
        for (let m = 0; m < size; m++) {
          const pm = p[m]
          const row = base + m * size
          for (let n = m; n < size; n++)
            ata[row + n] += pm * p[n]
          atb[f * size + m] += pm * target
        }
        samples[f]++
      }
    }
  }
  const weights = new Float32Array(count * size)
  let kept = 0
  for (let f = 0; f < count; f++) {
    // the weakest third of the gradients (flat areas) keep the first stage's pixels: on held-out
    // T91 that lost 0.002 dB and saves a third of the stage's work (the engine skips such hashes)
    const weak = Math.floor(f / cell / COHERENCES) % STRENGTHS === 0
    if (weak || samples[f] < minSamples * size) {
      weights[f * size + (size >> 1)] = 1
      kept++
      continue
    }
    const a = ata.subarray(f * size * size, (f + 1) * size * size)
    weights.set(solve(a, atb.subarray(f * size, (f + 1) * size), size, ridge), f * size)
  }
  log(`x${scale}: second stage ${taps} × ${taps}, ${kept} filters keep the first stage's pixel`)
  useSimd(simd)
  return { taps, weights }
}

/** (A + λ·mean(diag A)·I) w = b for symmetric A given by its upper triangle, by Cholesky. */
export function solve(upper: Float64Array, b: Float64Array, n: number, ridge: number): Float64Array {
  const a = new Float64Array(n * n)
  let trace = 0
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      a[i * n + j] = upper[i * n + j]
      a[j * n + i] = upper[i * n + j]
    }
    trace += upper[i * n + i]
  }
  const lambda = Math.max(1e-6, (ridge * trace) / n)
  for (let i = 0; i < n; i++)
    a[i * n + i] += lambda
  // A = L Lᵀ, in place in the lower triangle
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]
    for (let k = 0; k < j; k++)
      d -= a[j * n + k] * a[j * n + k]
    d = Math.sqrt(Math.max(d, 1e-12))
    a[j * n + j] = d
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]
      for (let k = 0; k < j; k++)
        s -= a[i * n + k] * a[j * n + k]
      a[i * n + j] = s / d
    }
  }
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = b[i]
    for (let k = 0; k < i; k++)
      s -= a[i * n + k] * y[k]
    y[i] = s / a[i * n + i]
  }
  const x = new Float64Array(n)
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]
    for (let k = i + 1; k < n; k++)
      s -= a[k * n + i] * x[k]
    x[i] = s / a[i * n + i]
  }
  return x
}
