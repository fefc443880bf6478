/**
 * The filter stages on WebAssembly SIMD (stage.wat): about three times the speed of the same
 * loop in JavaScript, which stays as the fallback where WebAssembly SIMD is missing. The two
 * round differently (f32 sums here, f64 there), so the engine's cache version names the one used.
 */
import { STAGE_WASM } from './stage-wasm'

/** What a stage needs: the plan of raisr.ts and the image's sizes. */
export interface SimdStage {
  source: Float32Array
  sourceSize: [number, number]
  size: [number, number]
  scale: number
  hashOf: Uint8Array
  plan: { step: number, rows: number, cols: number, from: Int32Array, weights: Float32Array, keep: Uint8Array }
  /** where each place of a cell lands, from the cell's top left output pixel */
  at: Int32Array
  range?: { low: Float32Array, high: Float32Array }
  ring: number
}

let compiled: WebAssembly.Module | null | undefined
let enabled = true

function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(STAGE_WASM, 'base64'))
    }
    catch {
      compiled = null
    }
  }
  return compiled
}

/** Which implementation runs the stages: `simd`, or `js` where WebAssembly SIMD is missing (or switched off). */
export const kernel = (): 'simd' | 'js' => (enabled && module() ? 'simd' : 'js')

/** Tests run both implementations: `useSimd(false)` forces the JavaScript one. */
export function useSimd(on: boolean): void {
  enabled = on
}

/** Run a stage on WebAssembly, or undefined where it cannot (then the caller runs it in JavaScript). */
export function runStageSimd(stage: SimdStage): Float32Array | undefined {
  const wasm = kernel() === 'simd' ? module() : null
  if (!wasm)
    return undefined
  const { source, sourceSize: [sourceWidth, sourceHeight], size: [width, height], scale, hashOf, plan, at } = stage
  const { range, ring } = stage
  // padded on every side, edges repeated, so no window reaches outside
  const pad = plan.rows + plan.cols
  const paddedWidth = sourceWidth + 2 * pad
  const paddedHeight = sourceHeight + 2 * pad
  const outLength = width * scale * height * scale
  let end = 0
  const take = (bytes: number): number => {
    const start = end
    end += Math.ceil(bytes / 16) * 16
    return start
  }
  const weights = take(plan.weights.byteLength)
  const src = take(paddedWidth * paddedHeight * 4)
  const hashes = take(hashOf.length)
  const keep = take(plan.keep.length)
  const low = take(range ? range.low.byteLength : 0)
  const high = take(range ? range.high.byteLength : 0)
  const from = take(plan.from.byteLength)
  const places = take(at.byteLength)
  const out = take(outLength * 4)
  // a memory of its own for each call: a big image's is given back when the call is done
  const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) })
  const { buffer } = memory
  new Float32Array(buffer, weights, plan.weights.length).set(plan.weights)
  const padded = new Float32Array(buffer, src, paddedWidth * paddedHeight)
  for (let r = 0; r < paddedHeight; r++) {
    const from = Math.min(sourceHeight - 1, Math.max(0, r - pad)) * sourceWidth
    const row = r * paddedWidth
    padded.set(source.subarray(from, from + sourceWidth), row + pad)
    padded.fill(source[from], row, row + pad)
    padded.fill(source[from + sourceWidth - 1], row + pad + sourceWidth, row + paddedWidth)
  }
  new Uint8Array(buffer, hashes, hashOf.length).set(hashOf)
  new Uint8Array(buffer, keep, plan.keep.length).set(plan.keep)
  if (range) {
    new Float32Array(buffer, low, range.low.length).set(range.low)
    new Float32Array(buffer, high, range.high.length).set(range.high)
  }
  new Int32Array(buffer, from, plan.from.length).set(plan.from)
  new Int32Array(buffer, places, at.length).set(at)
  const instance = new WebAssembly.Instance(wasm, { env: { memory } })
  const run = instance.exports.stage as (...args: number[]) => void
  const groups = plan.from.length / 2
  const ranged = range ? 1 : 0
  const { step, rows, cols } = plan
  const image = [width, height, scale, step, rows, cols, groups, ring]
  run(weights, src, paddedWidth, pad, hashes, keep, low, high, ranged, from, places, out, ...image)
  return new Float32Array(buffer.slice(out, out + outLength * 4))
}
