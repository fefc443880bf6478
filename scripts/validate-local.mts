/**
 * How the learned engine's design is chosen, without looking at a test set: train on three
 * quarters of T91 and measure PSNR-Y (docs/quality.md) on the quarter held out (every fourth
 * image, by name). docs/quality.md lists what each choice measured.
 *   npx tsx scripts/validate-local.mts --scale 2 [--taps 7] [--refine 5] [--sizes 1,0.9,0.8,0.7,0.6]
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { learned } from '../src/core/engines/local/pixels'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { train, TRAINING } from './raisr-train'

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '2' },
    taps: { type: 'string', default: String(TRAINING.taps) },
    refine: { type: 'string', default: String(TRAINING.refineTaps) },
    sizes: { type: 'string', default: TRAINING.sizes.join(',') },
    data: { type: 'string', default: join(import.meta.dirname, '../data/t91') },
  },
})
const scale = Number(values.scale) as 2 | 4
const files = readdirSync(values.data).filter(f => f.endsWith('.png')).sort().map(f => join(values.data, f))
const held = files.filter((_, i) => i % 4 === 3)
const started = performance.now()
const bank = await train(files.filter((_, i) => i % 4 !== 3), {
  scale,
  taps: Number(values.taps),
  refineTaps: Number(values.refine),
  sizes: values.sizes.split(',').map(Number),
})
let ours = 0
let cubic = 0
for (const file of held) {
  const hr = modcrop(await loadRgb(file), scale)
  const small = degrade(hr, scale)
  ours += psnrY(quantize(learned(small, scale, 'clean', { bank })), hr, scale) / held.length
  cubic += psnrY(quantize(resize(small, hr.width, hr.height, bicubic)), hr, scale) / held.length
}
const seconds = ((performance.now() - started) / 1000).toFixed(0)
console.log(`x${scale} taps ${values.taps} refine ${values.refine} sizes ${values.sizes}: ${ours.toFixed(3)} dB on ${held.length} held-out T91 images (bicubic ${cubic.toFixed(3)}, +${(ours - cubic).toFixed(3)}), ${seconds} s`)
