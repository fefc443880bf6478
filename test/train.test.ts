import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { train } from '../scripts/raisr-train'
import { learned } from '../src/core/engines/local/pixels'
import { lanczos3, resize } from '../src/core/engines/local/resample'
import { decodeBank, encodeBank } from '../src/core/engines/local/weights'

const T91 = resolve(import.meta.dirname, '../data/t91')

describe('training the local engine\'s filters (a subset of T91)', () => {
  it('is deterministic, round-trips through the shipped format, and beats the plain resampler on what it learned', { timeout: 120_000 }, async () => {
    // the four smallest T91 images, 5×5 filters: the whole code path in seconds
    const files = readdirSync(T91).filter(f => /^t(?:20|24|9|12)\.png$/.test(f)).map(f => join(T91, f))
    expect(files).toHaveLength(4)
    const first = await train(files, { scale: 2, taps: 5, sizes: [1, 0.8] })
    const again = await train(files, { scale: 2, taps: 5, sizes: [1, 0.8] })
    expect(encodeBank(again).equals(encodeBank(first))).toBe(true)
    // 24 angles × 3 strengths × 3 coherences, 4 places in the x2 cell, 5 × 5 taps; the second stage 5 × 5 too
    expect(first.weights).toHaveLength(24 * 3 * 3 * 2 * 2 * 25)
    expect(first.refine?.weights).toHaveLength(24 * 3 * 3 * 2 * 2 * 25)

    const bank = decodeBank(encodeBank(first))
    // float16: about three decimal digits
    const close = (w: number, i: number): boolean =>
      Math.abs(w - first.weights[i]) <= Math.abs(first.weights[i]) * 1e-3 + 1e-4
    expect(bank.weights.every(close)).toBe(true)
    const second = first.refine!.weights
    const near = (w: number, i: number): boolean => Math.abs(w - second[i]) <= Math.abs(second[i]) * 1e-3 + 1e-4
    expect(bank.refine!.weights.every(near)).toBe(true)

    const hr = modcrop(await loadRgb(files[0]), 2)
    const small = degrade(hr, 2)
    const plain = psnrY(quantize(resize(small, hr.width, hr.height, lanczos3)), hr, 2)
    expect(psnrY(quantize(learned(small, 2, 'clean', { bank })), hr, 2)).toBeGreaterThan(plain + 0.5)
  })
})
