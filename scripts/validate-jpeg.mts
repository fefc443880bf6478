/**
 * The JPEG design on held-out T91 (every fourth image by name; everything trained on the rest):
 * the band's correction (deblock-train.ts), then either the clean enlargement bank or one trained
 * on corrected JPEGs of the band; PSNR-Y against the HR image beside centre-aligned bicubic of the
 * decoded JPEG.
 *   npx tsx scripts/validate-jpeg.mts --band 63,84 --test 75 --scale 2
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { correctWith, learned } from '../src/core/engines/local/pixels'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { jpegInput, jpegOf, trainDeblock } from './deblock-train'
import { train } from './raisr-train'

const { values } = parseArgs({
  options: {
    band: { type: 'string', default: '63,84' },
    test: { type: 'string', default: '75' },
    scale: { type: 'string', default: '2' },
    data: { type: 'string', default: join(import.meta.dirname, '../data/t91') },
  },
})
const scale = Number(values.scale) as 2 | 4
const files = readdirSync(values.data).filter(f => f.endsWith('.png')).sort().map(f => join(values.data, f))
const held = files.filter((_, i) => i % 4 === 3)
const training = files.filter((_, i) => i % 4 !== 3)
const started = performance.now()
const log = (line: string) => console.error(line)
const quality = values.band.split(',').map(Number) as [number, number]
const correction = await trainDeblock(training, { quality, log })
const bank = await train(training, { scale, input: jpegInput(correction), log })
const trained = ((performance.now() - started) / 1000).toFixed(0)
for (const q of values.test.split(',').map(Number)) {
  const sum = [0, 0, 0, 0]
  for (const file of held) {
    const hr = modcrop(await loadRgb(file), scale)
    const small = await jpegOf(degrade(hr, scale), q)
    sum[0] += psnrY(quantize(resize(small, hr.width, hr.height, bicubic)), hr, scale)
    sum[1] += psnrY(quantize(learned(small, scale, 'clean')), hr, scale)
    const fixed = correctWith({ ...small, data: Float32Array.from(small.data) }, correction)
    sum[2] += psnrY(quantize(learned(fixed, scale, 'clean')), hr, scale)
    sum[3] += psnrY(quantize(learned(fixed, scale, 'clean', { bank })), hr, scale)
  }
  const d = (i: number) => `+${((sum[i] - sum[0]) / held.length).toFixed(3)}`
  console.log(`x${scale} band ${values.band} q${q}: bicubic ${(sum[0] / held.length).toFixed(3)}; clean bank ${d(1)}, corrected + clean bank ${d(2)}, corrected + JPEG bank ${d(3)} (${held.length} held-out, trained in ${trained} s)`)
}
