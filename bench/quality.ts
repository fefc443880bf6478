/**
 * The measurement protocol of docs/quality.md: modcrop, centre-aligned antialiased
 * bicubic downscale, enlarge, PSNR on luma with the scale cropped from every border.
 */
import type { FloatImage } from '../src/core/engines/local/resample'
import sharp from 'sharp'
import { bicubic, resize } from '../src/core/engines/local/resample'

export async function loadRgb(file: string | Uint8Array): Promise<FloatImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  // greyscale PNGs (Set14 bridge) come back with one channel: expand to RGB
  const rgb = info.channels === 3 ? data : Buffer.from(Array.from(data).flatMap(v => [v, v, v]))
  return { data: Float32Array.from(rgb), width: info.width, height: info.height, channels: 3 }
}

export function modcrop(img: FloatImage, s: number): FloatImage {
  const width = img.width - (img.width % s)
  const height = img.height - (img.height % s)
  const out = new Float32Array(width * height * 3)
  for (let y = 0; y < height; y++)
    out.set(img.data.subarray(y * img.width * 3, (y * img.width + width) * 3), y * width * 3)
  return { data: out, width, height, channels: 3 }
}

/** The LR input: centre-aligned antialiased bicubic downscale, quantized to 8 bits like a file. */
export function degrade(hr: FloatImage, s: number): FloatImage {
  const lr = resize(hr, hr.width / s, hr.height / s, bicubic)
  for (let i = 0; i < lr.data.length; i++)
    lr.data[i] = Math.min(255, Math.max(0, Math.round(lr.data[i])))
  return lr
}

const luma = (d: Float32Array, i: number): number => 16 + (65.481 * d[i] + 128.553 * d[i + 1] + 24.966 * d[i + 2]) / 255

/** PSNR of the Y channel with `border` pixels cropped from every side; both images RGB, 0–255. */
export function psnrY(a: FloatImage, b: FloatImage, border: number): number {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`)
  let sum = 0
  let n = 0
  for (let y = border; y < a.height - border; y++) {
    for (let x = border; x < a.width - border; x++) {
      const i = (y * a.width + x) * 3
      const d = luma(a.data, i) - luma(b.data, i)
      sum += d * d
      n++
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / n))
}

/** Round to 8 bits, as a saved image would be. */
export function quantize(img: FloatImage): FloatImage {
  return { ...img, data: img.data.map(v => Math.min(255, Math.max(0, Math.round(v)))) }
}
