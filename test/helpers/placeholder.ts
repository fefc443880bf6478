import sharp from 'sharp'
import { expect } from 'vitest'

/**
 * A placeholder as users get it, decoded back: a WebP data URL of a few hundred bytes at most,
 * its long side ≤ 16 px and the size it says, its mean colour close to the enhanced image's, and
 * a dominant colour written `#rrggbb`.
 */
export async function checkPlaceholder(
  meta: { blurDataURL?: string, blurWidth?: number, blurHeight?: number, dominantColor?: string },
  enhanced: string | Buffer,
): Promise<void> {
  expect(meta.blurDataURL).toMatch(/^data:image\/webp;base64,[\w+/]+=*$/)
  expect(meta.blurDataURL!.length).toBeLessThan(600)
  expect(meta.dominantColor).toMatch(/^#[\da-f]{6}$/)
  const data = Buffer.from(meta.blurDataURL!.split(',')[1], 'base64')
  const tiny = await sharp(data).metadata()
  expect(tiny.format).toBe('webp')
  expect(Math.max(tiny.width, tiny.height)).toBeLessThanOrEqual(16)
  expect([tiny.width, tiny.height]).toEqual([meta.blurWidth, meta.blurHeight])
  const full = await sharp(enhanced).metadata()
  // the same proportions as the image, to a pixel
  const off = Math.abs(tiny.width / tiny.height - full.width / full.height)
  expect(off).toBeLessThan(2 / Math.min(tiny.width, tiny.height))
  const mean = async (input: string | Buffer) =>
    (await sharp(input).removeAlpha().stats()).channels.slice(0, 3).map(c => c.mean)
  const [a, b] = [await mean(data), await mean(enhanced)]
  for (let c = 0; c < 3; c++)
    expect(Math.abs(a[c] - b[c])).toBeLessThan(8)
}
