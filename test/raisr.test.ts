import type { FilterBank } from '../src/core/engines/local/raisr'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { compileStage, stageSource } from '../scripts/build-wasm'
import { createLocalEngine } from '../src/core/engines/local'
import { ANTIRING, COHERENCES, enlarge, hashes, patch, STRENGTHS } from '../src/core/engines/local/raisr'
import { kernel, useSimd } from '../src/core/engines/local/simd'
import { shippedBank } from '../src/core/engines/local/weights'

/** The engine's two stages the slow, obvious way: every output pixel on its own, clamped patches. */
function reference(y: Float32Array, [width, height]: [number, number], bank: FilterBank, hashOf: Uint8Array) {
  const { scale, taps, weights, refine } = bank
  const cell = scale * scale
  const outWidth = width * scale
  const outHeight = height * scale
  type Place = (R: number, C: number) => [number, number]
  const stage = (source: Float32Array, [w, h]: [number, number], n: number, filters: Float32Array, at: Place) => {
    const out = new Float32Array(outWidth * outHeight)
    const p = new Float32Array(n * n)
    for (let R = 0; R < outHeight; R++) {
      for (let C = 0; C < outWidth; C++) {
        const hash = hashOf[Math.floor(R / scale) * width + Math.floor(C / scale)]
        const f = hash * cell + (R % scale) * scale + (C % scale)
        patch(source, w, h, ...at(R, C), n, p)
        out[R * outWidth + C] = p.reduce((sum, v, k) => sum + v * filters[f * n * n + k], 0)
      }
    }
    return out
  }
  const first = stage(y, [width, height], taps, weights, (R, C) => [Math.floor(R / scale), Math.floor(C / scale)])
  const out = refine ? stage(first, [outWidth, outHeight], refine.taps, refine.weights, (R, C) => [R, C]) : first
  // overshoots beyond the 3 × 3 small pixels around the cell, pulled back by ANTIRING
  for (let R = 0; R < outHeight; R++) {
    for (let C = 0; C < outWidth; C++) {
      const around = [-1, 0, 1].flatMap(dr => [-1, 0, 1].map((dc) => {
        const r = Math.min(height - 1, Math.max(0, Math.floor(R / scale) + dr))
        return y[r * width + Math.min(width - 1, Math.max(0, Math.floor(C / scale) + dc))]
      }))
      const v = out[R * outWidth + C]
      const inside = Math.min(Math.max(...around), Math.max(Math.min(...around), v))
      out[R * outWidth + C] = v + (inside - v) * ANTIRING
    }
  }
  return out
}

describe('the learned filters', () => {
  afterEach(() => useSimd(true))

  it('run on WebAssembly SIMD here, from bytes that are what stage.wat compiles to', async () => {
    expect(kernel()).toBe('simd')
    // the module is committed as base64 (stage-wasm.ts): `npm run build:wasm` after editing stage.wat
    expect(stageSource(await compileStage())).toBe(await readFile(join(import.meta.dirname, '../src/core/engines/local/stage-wasm.ts'), 'utf8'))
    expect(createLocalEngine().version).toMatch(/:simd\//)
    useSimd(false)
    expect(kernel()).toBe('js')
    expect(createLocalEngine().version).toMatch(/:js\//)
  })

  for (const scale of [2, 4] as const) {
    for (const simd of [true, false]) {
      it(`x${scale}, ${simd ? 'WebAssembly SIMD' : 'JavaScript'}: the fast path (grouped filters, windows read in place, flat cells skipped) matches the obvious one, edges and anti-ringing included`, () => {
        useSimd(simd)
        const bank = shippedBank(scale)
        expect(bank.refine).toBeDefined()
        // small and odd, so most cells touch an edge; a ramp, an edge and noise below a flat band, so
        // every kind of hash occurs
        const width = 23
        const height = 17
        let seed = 7
        const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 40
        const ramp = (i: number) => (i % width) * 3 + (i % width > 11 ? 90 : 0)
        const value = (i: number) => (i < 6 * width ? 50 + noise() / 100 : ramp(i) + noise())
        const y = Float32Array.from({ length: width * height }, (_, i) => value(i))
        const hashOf = hashes(y, width, height, bank)
        expect(new Set(hashOf).size).toBeGreaterThan(20)
        // weak gradients, whose cells skip the second stage, and strong ones, which take it
        const strength = (h: number) => Math.floor(h / COHERENCES) % STRENGTHS
        expect(hashOf.some(h => strength(h) === 0)).toBe(true)
        expect(hashOf.some(h => strength(h) === 2)).toBe(true)
        const fast = enlarge(y, width, height, bank, hashOf)
        const slow = reference(y, [width, height], bank, hashOf)
        expect(fast).toHaveLength(slow.length)
        let worst = 0
        for (let i = 0; i < fast.length; i++)
          worst = Math.max(worst, Math.abs(fast[i] - slow[i]))
        expect(worst).toBeLessThan(1e-3)
      })
    }
  }
})
