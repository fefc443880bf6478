/**
 * Local engine quality under ../shared/bench/PROTOCOL.md: mean PSNR-Y on Set5 and Set14 at x2 and
 * x4, beside centre-aligned bicubic and Lanczos-3 and the published bicubic figures.
 *   npx tsx bench/local-quality.ts
 */
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { createLocalEngine } from '../src/core/engines/local'
import { bicubic, lanczos3, resize } from '../src/core/engines/resample'
import { degrade, loadRgb, modcrop, psnrY, quantize } from './quality'

const BENCH = resolve(import.meta.dirname, '../../shared/bench')
const PUBLISHED: Record<string, number> = { 'set5 x2': 33.66, 'set5 x4': 28.42, 'set14 x2': 30.24, 'set14 x4': 26.0 }

export async function qualityRows(): Promise<Array<Record<string, number | string>>> {
  const engine = createLocalEngine()
  const rows = []
  for (const set of ['set5', 'set14']) {
    for (const s of [2, 4] as const) {
      const files = readdirSync(join(BENCH, set)).filter(f => f.endsWith('.png'))
      const sum = { bicubic: 0, lanczos3: 0, local: 0 }
      for (const f of files) {
        const hr = modcrop(await loadRgb(join(BENCH, set, f)), s)
        const lr = degrade(hr, s)
        const png = await sharp(Buffer.from(Uint8Array.from(lr.data)), { raw: { width: lr.width, height: lr.height, channels: 3 } }).png().toBuffer()
        const { data } = await engine.enhance({ file: f, source: png, info: { format: 'png', width: lr.width, height: lr.height }, scale: s, auto: false, type: 'clean' })
        sum.local += psnrY(await loadRgb(data), hr, s)
        sum.bicubic += psnrY(quantize(resize(lr, hr.width, hr.height, bicubic)), hr, s)
        sum.lanczos3 += psnrY(quantize(resize(lr, hr.width, hr.height, lanczos3)), hr, s)
      }
      const n = files.length
      rows.push({ set: `${set} x${s}`, published: PUBLISHED[`${set} x${s}`], bicubic: sum.bicubic / n, lanczos3: sum.lanczos3 / n, local: sum.local / n })
    }
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await qualityRows()
  console.log('| set | published bicubic | centre-aligned bicubic | Lanczos-3 | local engine | local − bicubic |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows)
    console.log(`| ${r.set} | ${r.published} | ${(r.bicubic as number).toFixed(2)} | ${(r.lanczos3 as number).toFixed(2)} | ${(r.local as number).toFixed(2)} | +${((r.local as number) - (r.bicubic as number)).toFixed(2)} |`)
}
