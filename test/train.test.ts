import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { jpegOf, trainDeblock } from '../scripts/deblock-train'
import { train } from '../scripts/raisr-train'
import { deblockFilters } from '../src/core/engines/local/deblock'
import { jpegQuality } from '../src/core/engines/local/jpeg'
import { correctWith, learned } from '../src/core/engines/local/pixels'
import { lanczos3, resize } from '../src/core/engines/local/resample'
import { decodeBank, decodeDeblock, encodeBank, encodeDeblock, JPEG_BANDS, shippedDeblock } from '../src/core/engines/local/weights'

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

describe('training the JPEG corrections (a subset of T91)', () => {
  it('is deterministic, round-trips through the shipped format, and takes artifacts out of a JPEG it did not see', { timeout: 120_000 }, async () => {
    // a few T91 images at full size, 5 × 5 filters: the whole code path in seconds
    const files = readdirSync(T91).filter(f => /^t(?:1|2|3|4|5|6)\.png$/.test(f)).map(f => join(T91, f))
    expect(files).toHaveLength(6)
    const options = { quality: [70, 80] as [number, number], taps: 5, factors: [1] }
    const first = await trainDeblock(files, options)
    const again = await trainDeblock(files, options)
    expect(encodeDeblock(again).equals(encodeDeblock(first))).toBe(true)
    expect(first.weights).toHaveLength(deblockFilters * 25)
    const bank = decodeDeblock(encodeDeblock(first))
    expect(bank).toMatchObject({ quality: [70, 80], taps: 5, strength: first.strength })
    // an image it was not trained on, saved at quality 75: the correction brings it closer to the original
    const original = modcrop(await loadRgb(join(T91, 't12.png')), 1)
    const decoded = await jpegOf(original, 75)
    const before = psnrY(decoded, original, 1)
    const corrected = correctWith({ ...decoded, data: Float32Array.from(decoded.data) }, bank)
    expect(psnrY(quantize(corrected), original, 1)).toBeGreaterThan(before + 0.1)
  })

  it('reads the quality sharp\'s encoder wrote from the quantisation table, and picks the band that covers it', async () => {
    const sharp = (await import('sharp')).default
    const png = await sharp(join(T91, 't12.png')).toBuffer()
    for (const q of [20, 50, 75, 90, 97, 100])
      expect(jpegQuality(await sharp(png).jpeg({ quality: q }).toBuffer())).toBe(q)
    expect(jpegQuality(png)).toBeUndefined()
    expect(jpegQuality(Buffer.from([0xFF, 0xD8, 0xFF, 0xDB, 0x00]))).toBeUndefined()
    expect(shippedDeblock(20)?.quality).toEqual(JPEG_BANDS[0])
    expect(shippedDeblock(75)?.quality).toEqual([63, 84])
    expect(shippedDeblock(97)).toBeUndefined()
  })
})
