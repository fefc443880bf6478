/**
 * The JPEG design on held-out T91 (every fourth image by name; trained on the rest): PSNR-Y of the
 * decoded JPEG and of its learned correction against the image before compression (x1), and of the
 * enlargement (x2, x4) against the HR image, beside centre-aligned bicubic of the decoded JPEG.
 *   npx tsx scripts/validate-deblock.mts --band 68,82 --test 75 [--taps 7]
 */
import type { FloatImage } from '../src/core/engines/local/resample'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { deblock } from '../src/core/engines/local/deblock'
import { learned } from '../src/core/engines/local/pixels'
import { luma } from '../src/core/engines/local/raisr'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { DEBLOCK, jpegOf, trainDeblock } from './deblock-train'

const { values } = parseArgs({
  options: {
    band: { type: 'string', default: '68,82' },
    test: { type: 'string', default: '75' },
    taps: { type: 'string', default: String(DEBLOCK.taps) },
    factors: { type: 'string', default: DEBLOCK.factors.join(',') },
    data: { type: 'string', default: join(import.meta.dirname, '../data/t91') },
  },
})
const files = readdirSync(values.data).filter(f => f.endsWith('.png')).sort().map(f => join(values.data, f))
const held = files.filter((_, i) => i % 4 === 3)
const started = performance.now()
const [lo, hi] = values.band.split(',').map(Number)
const bank = await trainDeblock(files.filter((_, i) => i % 4 !== 3), {
  quality: [lo, hi],
  taps: Number(values.taps),
  factors: values.factors.split(',').map(Number),
  log: line => console.error(line),
})
const trained = ((performance.now() - started) / 1000).toFixed(0)

/** the decoded JPEG with the bank's luma correction (a grey shift: the chroma stays) */
function corrected(img: FloatImage): FloatImage {
  const y = luma(img)
  const fixed = deblock(y, img.width, img.height, bank)
  const data = Float32Array.from(img.data)
  for (let i = 0; i < y.length; i++) {
    const d = (fixed[i] - y[i]) * (255 / 219)
    for (let k = 0; k < 3; k++)
      data[i * 3 + k] += d
  }
  return { ...img, data }
}

for (const q of values.test.split(',').map(Number)) {
  const sum = { x1: [0, 0], x2: [0, 0, 0], x4: [0, 0, 0] }
  for (const file of held) {
    const original = await loadRgb(file)
    const j = await jpegOf(original, q)
    sum.x1[0] += psnrY(j, original, 1)
    sum.x1[1] += psnrY(quantize(corrected(j)), original, 1)
    for (const s of [2, 4] as const) {
      const hr = modcrop(original, s)
      const small = await jpegOf(degrade(hr, s), q)
      const row = sum[`x${s}`]
      row[0] += psnrY(quantize(resize(small, hr.width, hr.height, bicubic)), hr, s)
      row[1] += psnrY(quantize(learned(small, s, 'clean')), hr, s)
      row[2] += psnrY(quantize(learned(corrected(small), s, 'clean')), hr, s)
    }
  }
  const n = held.length
  const f = (v: number) => (v / n).toFixed(3)
  const d = (a: number, b: number) => ((a - b) / n >= 0 ? '+' : '') + ((a - b) / n).toFixed(3)
  console.log(`band ${values.band} taps ${values.taps} factors ${values.factors}, q${q}: x1 jpeg ${f(sum.x1[0])} corrected ${f(sum.x1[1])} (${d(sum.x1[1], sum.x1[0])}); `
    + `x2 bicubic ${f(sum.x2[0])} clean bank ${d(sum.x2[1], sum.x2[0])} corrected+clean ${d(sum.x2[2], sum.x2[0])}; `
    + `x4 bicubic ${f(sum.x4[0])} clean bank ${d(sum.x4[1], sum.x4[0])} corrected+clean ${d(sum.x4[2], sum.x4[0])} (trained in ${trained} s)`)
}
