/**
 * Hashed, learned filters in the manner of RAISR (Romano, Isidoro, Milanfar, IEEE TCI 2017), in
 * the low-resolution domain: each pixel of the small image is hashed by its local gradient
 * structure (angle, strength, coherence of a smoothed structure tensor), and the scale × scale
 * output pixels of its cell are each a small linear filter of the taps × taps patch around it, one
 * filter per hash and place in the cell. A second stage of small filters on that output, chosen
 * by the same hash, follows; overshoots are then pulled partly back (ANTIRING). The filters are
 * learned by least squares (scripts/raisr-train.ts). The paper filters a cheap enlargement;
 * filtering the small image instead gives the same per-pixel linear model (a cheap enlargement is
 * itself linear in the small image) with s² fewer hashes and a patch s² times smaller, so the
 * engine costs about what a resize and a sharpening do.
 */
import { HASHES } from './hash'
import { runStagesSimd } from './simd'

export { ANGLES, channel, COHERENCES, features, hashes, HASHES, luma, STRENGTHS } from './hash'

/** Learned filters for one scale: `taps`×`taps` weights per hash and place in the cell, and the hash's settings. */
export interface FilterBank {
  scale: number
  taps: number
  /** strength (√λ1) thresholds between the 3 classes */
  strength: [number, number]
  /** coherence thresholds between the 3 classes */
  coherence: [number, number]
  /**
   * filters × taps² weights; the filter of hash h for output place t (row-major in the scale ×
   * scale cell) is number h · scale² + t, with h = (angle · STRENGTHS + strength) · COHERENCES + coherence
   */
  weights: Float32Array
  /**
   * a second stage: filters of `taps` × `taps` on the first stage's output, one per hash and
   * place again (the same layout), learned on what the first stage makes
   */
  refine?: { taps: number, weights: Float32Array }
}

export const filtersOf = (scale: number): number => HASHES * scale * scale

/** The `rows` × `cols` window of `y` from (top, left), edges clamped, into `out`. */
function clampedWindow(
  y: Float32Array,
  [width, height]: [number, number],
  [top, left]: [number, number],
  [rows, cols]: [number, number],
  out: Float32Array | Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    const row = Math.min(height - 1, Math.max(0, top + i)) * width
    for (let j = 0; j < cols; j++)
      out[i * cols + j] = y[row + Math.min(width - 1, Math.max(0, left + j))]
  }
}

/** The taps×taps patch around (r, c), edges clamped, into `out`. */
export function patch(
  y: Float32Array,
  width: number,
  height: number,
  r: number,
  c: number,
  taps: number,
  out: Float32Array | Float64Array,
) {
  const half = taps >> 1
  clampedWindow(y, [width, height], [r - half, c - half], [taps, taps], out)
}

/** per small pixel, the range its cell's output pixels are pulled back towards */
interface Range { low: Float32Array, high: Float32Array }

/**
 * How a stage of filters runs: for every cell (a pixel of the small image), its places in groups of
 * four (x2: the cell, x4: one row of it). A group reads one window of the source, `rows` × `cols`
 * from (cell's origin + `from[g]`), that holds the patch of each of its four places; the four
 * filters, laid out on that window (zeros outside their own patch), sit side by side tap by tap, so
 * one pass over the window feeds four sums.
 */
interface Plan {
  /** source pixels per cell along each axis: 1 on the small image, the scale on the enlarged one */
  step: number
  rows: number
  cols: number
  /** per group, the window's origin (row, column) from the cell's origin in the source */
  from: Int32Array
  /** per hash, group, window pixel and place in the group: a weight */
  weights: Float32Array
  /** per hash, 1 where every filter of the stage keeps its own pixel (`step` = scale only): skipped */
  keep: Uint8Array
}

const plans = new WeakMap<Float32Array, Plan>()

/**
 * The plan of a stage whose filter (hash h, place t) is weights[(h · scale² + t) · taps²…], each
 * reading the taps × taps patch around (its cell's small pixel, `step` 1) or (its own output
 * pixel, `step` = scale).
 */
function planOf(weights: Float32Array, scale: number, taps: number, step: number): Plan {
  let plan = plans.get(weights)
  if (plan)
    return plan
  const half = taps >> 1
  const cell = scale * scale
  const size = taps * taps
  // where place t's patch starts, from the cell's origin in the source
  const patchAt = (t: number): [number, number] =>
    step === 1 ? [-half, -half] : [Math.floor(t / scale) - half, (t % scale) - half]
  const groups = cell / 4
  const from = new Int32Array(groups * 2)
  let rows = 0
  let cols = 0
  for (let g = 0; g < groups; g++) {
    const corners = [0, 1, 2, 3].map(j => patchAt(g * 4 + j))
    from[2 * g] = Math.min(...corners.map(([r]) => r))
    from[2 * g + 1] = Math.min(...corners.map(([, c]) => c))
    rows = Math.max(rows, ...corners.map(([r]) => r - from[2 * g] + taps))
    cols = Math.max(cols, ...corners.map(([, c]) => c - from[2 * g + 1] + taps))
  }
  const window = rows * cols
  const out = new Float32Array(HASHES * groups * window * 4)
  for (let h = 0; h < HASHES; h++) {
    for (let t = 0; t < cell; t++) {
      const g = t >> 2
      const [r0, c0] = patchAt(t)
      const base = (h * groups + g) * window * 4 + (t & 3)
      for (let k = 0; k < size; k++) {
        const at = (r0 - from[2 * g] + Math.floor(k / taps)) * cols + (c0 - from[2 * g + 1] + (k % taps))
        out[base + at * 4] = weights[(h * cell + t) * size + k]
      }
    }
  }
  const keep = new Uint8Array(HASHES)
  for (let h = 0; h < HASHES && step === scale; h++) {
    const own = weights.subarray(h * cell * size, (h + 1) * cell * size)
    keep[h] = own.every((w, k) => w === (k % size === size >> 1 ? 1 : 0)) ? 1 : 0
  }
  plan = { step, rows, cols, from, weights: out, keep }
  plans.set(weights, plan)
  return plan
}

/**
 * Run a stage: `source` (sourceWidth × sourceHeight) filtered into an image `scale` times the
 * small one's size, every output pixel by the filter of its cell's hash (`hashOf`, the small
 * image's width × height) and its place in the cell.
 */
function runStage(
  source: Float32Array,
  [sourceWidth, sourceHeight]: [number, number],
  [width, height]: [number, number],
  scale: number,
  hashOf: Uint8Array,
  plan: Plan,
  range?: Range,
): Float32Array {
  const { step, rows, cols, from, weights, keep } = plan
  const groups = from.length / 2
  const window = rows * cols
  const outWidth = width * scale
  // where each place of the cell lands, from the cell's top left output pixel
  const at = Int32Array.from({ length: scale * scale }, (_, t) => Math.floor(t / scale) * outWidth + (t % scale))
  const out = new Float32Array(outWidth * height * scale)
  const copy = new Float32Array(window)
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const corner = r * scale * outWidth + c * scale
      const hash = hashOf[r * width + c]
      // the output's bounds (none without a range): see ANTIRING
      const low = range ? range.low[r * width + c] : -Infinity
      const high = range ? range.high[r * width + c] : Infinity
      if (keep[hash]) {
        for (const place of at)
          out[corner + place] = pull(source[corner + place], low, high)
        continue
      }
      let w = hash * groups * window * 4
      for (let g = 0; g < groups; g++) {
        const top = r * step + from[2 * g]
        const left = c * step + from[2 * g + 1]
        // the window: read in place where it is whole, copied with clamped edges at the borders
        let src = source
        let start = top * sourceWidth + left
        let stride = sourceWidth
        if (top < 0 || left < 0 || top + rows > sourceHeight || left + cols > sourceWidth) {
          clampedWindow(source, [sourceWidth, sourceHeight], [top, left], [rows, cols], copy)
          src = copy
          start = 0
          stride = cols
        }
        let s0 = 0
        let s1 = 0
        let s2 = 0
        let s3 = 0
        for (let i = 0; i < rows; i++) {
          const row = start + i * stride
          for (let j = 0; j < cols; j++, w += 4) {
            const v = src[row + j]
            s0 += weights[w] * v
            s1 += weights[w + 1] * v
            s2 += weights[w + 2] * v
            s3 += weights[w + 3] * v
          }
        }
        out[corner + at[4 * g]] = pull(s0, low, high)
        out[corner + at[4 * g + 1]] = pull(s1, low, high)
        out[corner + at[4 * g + 2]] = pull(s2, low, high)
        out[corner + at[4 * g + 3]] = pull(s3, low, high)
      }
    }
  }
  return out
}

/**
 * Enlarge one channel of a small image (`width` × `height`) by the bank's scale: every output
 * pixel is its filter applied to the patch around its cell's small pixel, hashed by `hashOf`;
 * then, where the bank has a second stage, its filters applied to the patch around each output
 * pixel of the first, chosen by the same hash and place. What the filters learned; with a
 * `range` (see `enlarge`), the last stage pulls its overshoots back as it writes them.
 */
export function filtered(
  y: Float32Array,
  width: number,
  height: number,
  bank: FilterBank,
  hashOf: Uint8Array,
  range?: Range,
) {
  const { scale, taps, weights, refine } = bank
  const plan = planOf(weights, scale, taps, 1)
  const second = refine && planOf(refine.weights, scale, refine.taps, scale)
  const plans = second ? [plan, second] : [plan]
  const simd = runStagesSimd({ y, width, height, scale, hashOf, plans, range, ring: ANTIRING })
  if (simd)
    return simd
  const first = runStage(y, [width, height], [width, height], scale, hashOf, plan, second ? undefined : range)
  if (!second)
    return first
  return runStage(first, [width * scale, height * scale], [width, height], scale, hashOf, second, range)
}

/**
 * The engine's enlargement of one channel: the learned filters (`filtered`), their overshoots
 * beyond the small pixels around each cell pulled back (ANTIRING) as the last stage writes them.
 */
export const enlarge = (y: Float32Array, width: number, height: number, bank: FilterBank, hashOf: Uint8Array) =>
  filtered(y, width, height, bank, hashOf, rangeAround(y, width, height))

/**
 * How far an output pixel that overshoots the range of the 3 × 3 small pixels around its cell is
 * pulled back into it: on held-out T91, 0.3 gained 0.03 dB at x2 and x4 (0.5: 0.03 / 0.03, 0.7:
 * 0.01 / 0.02, all the way: −0.06 / −0.01), the ringing of a linear filter at a hard edge.
 */
export const ANTIRING = 0.3

/** The minimum and maximum of the 3 × 3 small pixels around each one: along the rows, then down the columns. */
function rangeAround(y: Float32Array, width: number, height: number): Range {
  const rowLow = new Float32Array(y.length)
  const rowHigh = new Float32Array(y.length)
  for (let r = 0; r < height; r++) {
    for (let c = 0, i = r * width; c < width; c++, i++) {
      const left = y[c > 0 ? i - 1 : i]
      const right = y[c < width - 1 ? i + 1 : i]
      rowLow[i] = Math.min(Math.min(left, right), y[i])
      rowHigh[i] = Math.max(Math.max(left, right), y[i])
    }
  }
  const low = new Float32Array(y.length)
  const high = new Float32Array(y.length)
  for (let r = 0; r < height; r++) {
    const up = (r > 0 ? r - 1 : r) * width
    const down = (r < height - 1 ? r + 1 : r) * width
    for (let c = 0, i = r * width; c < width; c++, i++) {
      low[i] = Math.min(Math.min(rowLow[up + c], rowLow[down + c]), rowLow[i])
      high[i] = Math.max(Math.max(rowHigh[up + c], rowHigh[down + c]), rowHigh[i])
    }
  }
  return { low, high }
}

/** `v` with its overshoot beyond [low, high] pulled back by ANTIRING. */
const pull = (v: number, low: number, high: number): number =>
  v > high ? v - (v - high) * ANTIRING : v < low ? v + (low - v) * ANTIRING : v
