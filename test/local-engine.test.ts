import { availableParallelism } from 'node:os'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { createLocalEngine, enhancePixels } from '../src/core/engines/local'
import { fromBytes, lanczos3, resize } from '../src/core/engines/local/resample'
import { useSimd } from '../src/core/engines/local/simd'
import { inspect } from '../src/core/image'

const engine = createLocalEngine()

describe('local engine', () => {
  it('keeps alpha, without dark fringes from transparent pixels', async () => {
    // left half opaque white, right half fully transparent black
    const w = 16
    const h = 8
    const raw = Buffer.alloc(w * h * 4)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w / 2; x++)
        raw.set([255, 255, 255, 255], (y * w + x) * 4)
    }
    const source = await sharp(raw, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer()
    const { data } = await engine.enhance({ file: 'a.png', source, info: await inspect(source), scale: 4, auto: false, type: 'clean' })
    const out = await sharp(data).raw().toBuffer({ resolveWithObject: true })
    expect(out.info).toMatchObject({ width: 64, height: 32, channels: 4 })
    // every pixel with any opacity is (close to) white: premultiplied resampling, no black halo
    for (let i = 0; i < out.data.length; i += 4) {
      if (out.data[i + 3] > 8)
        expect(out.data[i], `pixel ${i / 4}`).toBeGreaterThan(240)
    }
    expect(out.data[(10 * 64 + 2) * 4 + 3]).toBe(255)
    expect(out.data[(10 * 64 + 60) * 4 + 3]).toBe(0)
  })

  it('applies EXIF orientation', async () => {
    const source = await sharp({ create: { width: 30, height: 10, channels: 3, background: '#c84' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    const info = await inspect(source)
    expect(info).toMatchObject({ width: 10, height: 30, format: 'jpeg' })
    const { data } = await engine.enhance({ file: 'r.jpg', source, info, scale: 2, auto: false, type: 'clean' })
    const meta = await sharp(data).metadata()
    expect(meta).toMatchObject({ width: 20, height: 60, format: 'jpeg' })
    expect(meta.orientation ?? 1).toBe(1)
  })

  it('sharpens faces more gently than everything else', () => {
    const w = 8
    const edge = Uint8Array.from({ length: w * w }, (_, i) => (i % w < w / 2 ? 40 : 200))
    const clean = enhancePixels(edge, w, w, 1, 2, 'clean')
    const face = enhancePixels(edge, w, w, 1, 2, 'face')
    const overshoot = (p: Uint8Array) => Math.max(...p) - 200 + 40 - Math.min(...p)
    expect(overshoot(clean)).toBeGreaterThan(overshoot(face))
    expect(overshoot(face)).toBeGreaterThan(0)
  })

  it('learned filters change the luma only: the colour differences are Lanczos-3\'s, and grey, grey + alpha, RGB and RGBA agree', () => {
    const w = 24
    const h = 16
    // a colour ramp across a hard diagonal edge
    const rgb = new Uint8Array(w * h * 3)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++)
        rgb.set(x > y ? [200, 120 + x, 40] : [30, 60, 90 + 4 * y], (y * w + x) * 3)
    }
    for (const s of [2, 4] as const) {
      const out = enhancePixels(rgb, w, h, 3, s, 'clean')
      const plain = resize(fromBytes(rgb, w, h, 3), w * s, h * s, lanczos3).data
      let worst = 0
      for (let i = 0; i < out.length; i += 3) {
        // (R − G) and (B − G) as Lanczos-3 has them, where nothing was clamped
        if (Math.max(out[i], out[i + 1], out[i + 2]) < 255 && Math.min(out[i], out[i + 1], out[i + 2]) > 0) {
          worst = Math.max(worst, Math.abs(out[i] - out[i + 1] - (plain[i] - plain[i + 1])))
          worst = Math.max(worst, Math.abs(out[i + 2] - out[i + 1] - (plain[i + 2] - plain[i + 1])))
        }
      }
      expect(worst).toBeLessThanOrEqual(1.5)
      // the same picture in grey, with and without alpha, as RGB and as RGBA: the same output grey
      const grey = Uint8Array.from({ length: w * h }, (_, i) => rgb[i * 3 + 1])
      const layouts = [1, 2, 3, 4].map((channels) => {
        const data = new Uint8Array(w * h * channels)
        for (let i = 0; i < w * h; i++) {
          data.fill(grey[i], i * channels, i * channels + Math.min(channels, 3))
          if (channels === 2 || channels === 4)
            data[i * channels + channels - 1] = 255
        }
        const enlarged = enhancePixels(data, w, h, channels, s, 'clean')
        return Array.from({ length: w * h * s * s }, (_, i) => enlarged[i * channels])
      })
      for (const other of layouts.slice(1)) {
        expect(Math.max(...other.map((v, i) => Math.abs(v - layouts[0][i])))).toBeLessThanOrEqual(1)
      }
      expect(Math.max(...layouts[0]) - Math.min(...layouts[0])).toBeGreaterThan(100)
    }
  })

  it('takes images smaller than its filters, in every layout and depth, with either kernel', () => {
    for (const simd of [true, false]) {
      useSimd(simd)
      for (const [w, h] of [[1, 1], [1, 5], [3, 1], [2, 2], [7, 3]]) {
        for (const channels of [1, 2, 3, 4]) {
          for (const s of [2, 4] as const) {
            const bytes = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37) % 256)
            const out = enhancePixels(bytes, w, h, channels, s, 'clean')
            const words = enhancePixels(Uint16Array.from(bytes, v => v * 257), w, h, channels, s, 'face')
            expect(out).toHaveLength(w * h * channels * s * s)
            expect(words).toHaveLength(out.length)
            // and an even image stays even, edges included
            const flat = enhancePixels(new Uint8Array(w * h * channels).fill(77), w, h, channels, s, 'clean')
            expect(flat.every(v => Math.abs(v - 77) <= 1)).toBe(true)
          }
        }
      }
    }
    useSimd(true)
  })

  it('keeps flat areas flat and sizes exact, at every scale', () => {
    for (const s of [1, 2, 4] as const) {
      const flat = new Uint8Array(5 * 3 * 3).fill(123)
      const out = enhancePixels(flat, 5, 3, 3, s, 'clean')
      expect(out.length).toBe(5 * s * 3 * s * 3)
      expect(new Set(out)).toEqual(new Set([123]))
    }
  })

  it('works on worker threads, one per core: two images at once use two threads', async () => {
    const source = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a7' } }).png().toBuffer()
    const info = await inspect(source)
    const results = await Promise.all([1, 2].map(() => engine.enhance({ file: 'a.png', source, info, scale: 2, auto: false, type: 'clean' })))
    const threads = new Set(results.map(r => r.provenance!.thread as number))
    expect([...threads].every(t => t > 0)).toBe(true)
    expect(threads.size).toBe(Math.min(2, availableParallelism()))
    // and the same bytes as the calling thread makes
    const raw = await sharp(source).raw().toBuffer({ resolveWithObject: true })
    const here = enhancePixels(raw.data, 64, 64, 3, 2, 'clean')
    const there = await sharp(results[0].data).raw().toBuffer()
    expect(Buffer.from(here).equals(there)).toBe(true)
  })
})
