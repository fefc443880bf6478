/**
 * The filter stages on WebAssembly SIMD (stage.wat): about twice the speed of the same loops in
 * JavaScript, which stay as the fallback where WebAssembly SIMD is missing. Both stages run in
 * one memory: the first writes straight into the second's padded source. The two implementations
 * round differently (f32 sums here, f64 there), so the engine's cache version names the one used.
 */
import { STAGE_WASM } from './stage-wasm'

/** One stage's plan, as raisr.ts makes it. */
interface StagePlan {
  step: number
  rows: number
  cols: number
  from: Int32Array
  weights: Float32Array
  keep: Uint8Array
}

/** What the stages need: the small image, its hashes, the plans in order and the last stage's range. */
export interface SimdStages {
  y: Float32Array
  width: number
  height: number
  scale: number
  hashOf: Uint8Array
  plans: StagePlan[]
  range: { low: Float32Array, high: Float32Array } | undefined
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

/** Repeat the edge pixels of the `width` × `height` image inside `image` into its `pad` border. */
function padEdges(image: Float32Array, width: number, height: number, pad: number): void {
  const stride = width + 2 * pad
  for (let r = pad; r < pad + height; r++) {
    const row = r * stride
    image.fill(image[row + pad], row, row + pad)
    image.fill(image[row + pad + width - 1], row + pad + width, row + stride)
  }
  for (let r = 0; r < pad; r++) {
    image.copyWithin(r * stride, pad * stride, (pad + 1) * stride)
    image.copyWithin((pad + height + r) * stride, (pad + height - 1) * stride, (pad + height) * stride)
  }
}

/** Run the stages on WebAssembly, or undefined where it cannot (then the caller runs them in JavaScript). */
export function runStagesSimd(stages: SimdStages): Float32Array | undefined {
  const { y, width, height, scale, hashOf, plans, range, ring } = stages
  const wasm = kernel() === 'simd' ? module() : null
  if (!wasm)
    return undefined
  // each stage's source, padded on every side so no window reaches outside: the small image, then
  // the enlarged one
  const sources = plans.map((plan, k) => {
    const pad = plan.rows + plan.cols
    const [w, h] = k === 0 ? [width, height] : [width * scale, height * scale]
    return { pad, width: w, height: h, stride: w + 2 * pad }
  })
  let end = 0
  const take = (bytes: number): number => {
    const start = end
    end += Math.ceil(bytes / 16) * 16
    return start
  }
  const at = plans.map(plan => ({
    weights: take(plan.weights.byteLength),
    keep: take(plan.keep.length),
    from: take(plan.from.byteLength),
  }))
  const images = sources.map(s => take(s.stride * (s.height + 2 * s.pad) * 4))
  const hashes = take(hashOf.length)
  const low = take(range ? range.low.byteLength : 0)
  const high = take(range ? range.high.byteLength : 0)
  const places = take(scale * scale * 4 * plans.length)
  const outWidth = width * scale
  const outLength = outWidth * height * scale
  const out = take(outLength * 4)
  // a memory of its own for each call: a big image's is given back when the call is done
  const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) })
  const { buffer } = memory
  const floats = (offset: number, length: number) => new Float32Array(buffer, offset, length)
  plans.forEach((plan, k) => {
    floats(at[k].weights, plan.weights.length).set(plan.weights)
    new Uint8Array(buffer, at[k].keep, plan.keep.length).set(plan.keep)
    new Int32Array(buffer, at[k].from, plan.from.length).set(plan.from)
  })
  new Uint8Array(buffer, hashes, hashOf.length).set(hashOf)
  if (range) {
    floats(low, range.low.length).set(range.low)
    floats(high, range.high.length).set(range.high)
  }
  const first = sources[0]
  const small = floats(images[0], first.stride * (first.height + 2 * first.pad))
  for (let r = 0; r < height; r++)
    small.set(y.subarray(r * width, (r + 1) * width), (r + first.pad) * first.stride + first.pad)
  padEdges(small, width, height, first.pad)
  const run = new WebAssembly.Instance(wasm, { env: { memory } }).exports.stage as (...args: number[]) => void
  plans.forEach((plan, k) => {
    const source = sources[k]
    const next = sources[k + 1]
    // the output: the next stage's source, inside its border, or the result
    const inside = next && images[k + 1] + (next.pad * next.stride + next.pad) * 4
    const [target, stride] = next ? [inside as number, next.stride] : [out, outWidth]
    const placesAt = places + k * scale * scale * 4
    const offsets = Array.from({ length: scale * scale }, (_, t) => Math.floor(t / scale) * stride + (t % scale))
    new Int32Array(buffer, placesAt, scale * scale).set(offsets)
    const last = k === plans.length - 1
    const bounds = [last && range ? low : 0, last && range ? high : 0, last && range ? 1 : 0]
    const image = [width, height, scale, plan.step, plan.rows, plan.cols, plan.from.length / 2, ring, stride]
    const input = [at[k].weights, images[k], source.stride, source.pad, hashes, at[k].keep]
    run(...input, ...bounds, at[k].from, placesAt, target, ...image)
    if (next)
      padEdges(floats(images[k + 1], next.stride * (next.height + 2 * next.pad)), next.width, next.height, next.pad)
  })
  return new Float32Array(buffer.slice(out, out + outLength * 4))
}
