/**
 * Train the local engine's filter banks by closed-form least squares: for every T91 image and its
 * 8 flips and rotations, the HR image is shrunk by the measuring protocol's bicubic, enlarged by
 * the engine's cheap resampler, and every pixel adds its patch to its bucket's AᵀA and Aᵀb. Each
 * bucket is solved with a small ridge; a bucket with too few samples takes the filter learned over
 * all buckets of its pixel type. Deterministic: the same images give the same bytes.
 */
import type { FilterBank } from '../src/core/engines/local/raisr'
import type { FloatImage } from '../src/core/engines/local/resample'
import { degrade, loadRgb, modcrop } from '../bench/quality'
import { ANGLES, buckets as bucketsFor, bucketsOf, COHERENCES, features, luma, patch, STRENGTHS } from '../src/core/engines/local/raisr'
import { lanczos3, resize } from '../src/core/engines/local/resample'

/** The 8 flips and rotations of an image. */
function* augmented(img: FloatImage): Generator<FloatImage> {
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

interface Pair { up: Float32Array, hr: Float32Array, width: number, height: number }

/** HR luma and the cheap enlargement of its degraded copy, for every training image and augmentation. */
async function* pairs(files: string[], scale: number): AsyncGenerator<Pair> {
  for (const file of files) {
    const hr = modcrop(await loadRgb(file), scale)
    for (const image of augmented(hr)) {
      const lr = degrade(image, scale)
      const up = resize(lr, image.width, image.height, lanczos3)
      yield { up: luma(up), hr: luma(image), width: image.width, height: image.height }
    }
  }
}

const tertiles = (values: Float32Array): [number, number] => {
  const sorted = Float32Array.from(values).sort()
  return [sorted[Math.floor(sorted.length / 3)], sorted[Math.floor((2 * sorted.length) / 3)]]
}

export interface TrainOptions {
  scale: 2 | 4
  taps?: number
  /**
   * ridge, relative to the mean diagonal of AᵀA: small, since every bucket has thousands of samples
   * (on 20 T91 images, Set5 x2 went from 35.41 dB at 1e-3 to 35.89 at 1e-5 and 35.91 at 1e-7)
   */
  ridge?: number
  /** fewer samples than this × taps² and a bucket takes its pixel type's filter */
  minSamples?: number
  log?: (line: string) => void
}

export async function train(files: string[], options: TrainOptions): Promise<FilterBank> {
  const { scale, taps = 9, ridge = 1e-6, minSamples = 2, log = () => {} } = options
  const size = taps * taps
  const half = taps >> 1
  // the hash's thresholds: tertiles of strength and coherence over the training set (unaugmented)
  const strengths: number[] = []
  const coherences: number[] = []
  for await (const { up, width, height } of pairs(files, scale)) {
    const f = features(up, width, height)
    for (let i = 0; i < f.strength.length; i += 7) {
      strengths.push(f.strength[i])
      coherences.push(f.coherence[i])
    }
  }
  const strength = tertiles(Float32Array.from(strengths))
  const coherence = tertiles(Float32Array.from(coherences))
  log(`x${scale}: thresholds strength ${strength.map(v => v.toFixed(2))}, coherence ${coherence.map(v => v.toFixed(3))}`)

  const count = bucketsOf(scale)
  const ata = new Float64Array(count * size * size)
  const atb = new Float64Array(count * size)
  const samples = new Float64Array(count)
  const p = new Float32Array(size)
  let images = 0
  for await (const { up, hr, width, height } of pairs(files, scale)) {
    const bucket = bucketsFor(up, width, height, scale, { strength, coherence })
    for (let r = half; r < height - half; r++) {
      for (let c = half; c < width - half; c++) {
        const i = r * width + c
        const b = bucket[i]
        patch(up, width, height, r, c, taps, p)
        const base = b * size * size
        for (let m = 0; m < size; m++) {
          const pm = p[m]
          const row = base + m * size
          for (let n = m; n < size; n++)
            ata[row + n] += pm * p[n]
          atb[b * size + m] += pm * hr[i]
        }
        samples[b]++
      }
    }
    if (++images % 80 === 0)
      log(`x${scale}: ${images} images`)
  }

  // the fallback of each pixel type: all its buckets together
  const perType = ANGLES * STRENGTHS * COHERENCES
  const weights = new Float32Array(count * size)
  const typeFilters: Float64Array[] = []
  for (let type = 0; type < scale * scale; type++) {
    const a = new Float64Array(size * size)
    const v = new Float64Array(size)
    for (let b = type * perType; b < (type + 1) * perType; b++) {
      for (let k = 0; k < size * size; k++)
        a[k] += ata[b * size * size + k]
      for (let k = 0; k < size; k++)
        v[k] += atb[b * size + k]
    }
    typeFilters.push(solve(a, v, size, ridge))
  }
  let fallbacks = 0
  for (let b = 0; b < count; b++) {
    const type = Math.floor(b / perType)
    let w: Float64Array
    if (samples[b] < minSamples * size) {
      w = typeFilters[type]
      fallbacks++
    }
    else {
      const a = ata.subarray(b * size * size, (b + 1) * size * size)
      w = solve(a, atb.subarray(b * size, (b + 1) * size), size, ridge)
    }
    weights.set(w, b * size)
  }
  log(`x${scale}: ${count} buckets, ${fallbacks} from their pixel type's filter`)
  return { scale, taps, strength, coherence, weights }
}

/** (A + λ·mean(diag A)·I) w = b for symmetric A given by its upper triangle, by Cholesky. */
function solve(upper: Float64Array, b: Float64Array, n: number, ridge: number): Float64Array {
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
