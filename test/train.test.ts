import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { train } from '../scripts/raisr-train'
import { addLuma, buckets, filter, luma } from '../src/core/engines/local/raisr'
import { lanczos3, resize } from '../src/core/engines/local/resample'
import { decodeBank, encodeBank } from '../src/core/engines/local/weights'

const T91 = resolve(import.meta.dirname, '../data/t91')

describe('training the local engine\'s filters (a subset of T91)', () => {
  it('is deterministic, round-trips through the shipped format, and beats the plain resampler on what it learned', { timeout: 120_000 }, async () => {
    // the four smallest T91 images, 5×5 filters: the whole code path in seconds
    const files = readdirSync(T91).filter(f => /^t(?:20|24|9|12)\.png$/.test(f)).map(f => join(T91, f))
    expect(files).toHaveLength(4)
    const first = await train(files, { scale: 2, taps: 5 })
    const again = await train(files, { scale: 2, taps: 5 })
    expect(encodeBank(again).equals(encodeBank(first))).toBe(true)
    expect(first.weights).toHaveLength(2 * 2 * 24 * 3 * 3 * 25)

    const bank = decodeBank(encodeBank(first))
    // float16: about three decimal digits
    const close = (w: number, i: number): boolean =>
      Math.abs(w - first.weights[i]) <= Math.abs(first.weights[i]) * 1e-3 + 1e-4
    expect(bank.weights.every(close)).toBe(true)

    const hr = modcrop(await loadRgb(files[0]), 2)
    const up = resize(degrade(hr, 2), hr.width, hr.height, lanczos3)
    const plain = psnrY(quantize({ ...up, data: Float32Array.from(up.data) }), hr, 2)
    const y = luma(up)
    addLuma(up, y, filter(y, up.width, up.height, bank, buckets(y, up.width, up.height, 2, bank)))
    expect(psnrY(quantize(up), hr, 2)).toBeGreaterThan(plain + 0.5)
  })
})
