/**
 * Local engine quality under docs/quality.md: mean PSNR-Y on Set5, Set14 (and BSD100 when it is in
 * the data folder) at x2 and x4, beside centre-aligned bicubic and Lanczos-3 and the published
 * bicubic figures.
 *   npx tsx bench/local-quality.ts [--data <dir>]
 */
import { basename } from 'node:path'
import sharp from 'sharp'
import { createLocalEngine } from '../src/core/engines/local'
import { bicubic, lanczos3, resize } from '../src/core/engines/local/resample'
import { dataDir, imagesOf, requireImages } from './data'
import { degrade, loadRgb, modcrop, psnrY, quantize } from './quality'

const PUBLISHED: Record<string, number> = { 'set5 x2': 33.66, 'set5 x4': 28.42, 'set14 x2': 30.24, 'set14 x4': 26.0 }

export async function qualityRows(): Promise<Array<Record<string, number | string>>> {
  const engine = createLocalEngine()
  const old = createLocalEngine({ method: 'lanczos' })
  const rows = []
  const dir = dataDir()
  const sets = ['set5', 'set14', ...(imagesOf('bsd100', dir)?.length ? ['bsd100'] : [])]
  for (const set of sets) {
    const files = requireImages(set, dir)
    for (const s of [2, 4] as const) {
      const sum = { bicubic: 0, lanczos3: 0, old: 0, local: 0 }
      for (const f of files) {
        const hr = modcrop(await loadRgb(f), s)
        const lr = degrade(hr, s)
        const raw = { width: lr.width, height: lr.height, channels: 3 as const }
        const png = await sharp(Buffer.from(Uint8Array.from(lr.data)), { raw }).png().toBuffer()
        const request = { file: basename(f), source: png, info: { format: 'png', width: lr.width, height: lr.height }, scale: s, auto: false, type: 'clean' as const }
        sum.local += psnrY(await loadRgb((await engine.enhance(request)).data), hr, s)
        sum.old += psnrY(await loadRgb((await old.enhance(request)).data), hr, s)
        sum.bicubic += psnrY(quantize(resize(lr, hr.width, hr.height, bicubic)), hr, s)
        sum.lanczos3 += psnrY(quantize(resize(lr, hr.width, hr.height, lanczos3)), hr, s)
      }
      const n = files.length
      rows.push({ set: `${set} x${s}`, published: PUBLISHED[`${set} x${s}`] ?? '—', bicubic: sum.bicubic / n, lanczos3: sum.lanczos3 / n, old: sum.old / n, local: sum.local / n })
    }
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await qualityRows()
  const f = (v: unknown) => (v as number).toFixed(2)
  console.log('| set | published bicubic | centre-aligned bicubic | Lanczos-3 | Lanczos-3 + sharpening (`localMethod: \'lanczos\'`) | learned filters (default) | learned − bicubic |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of rows)
    console.log(`| ${r.set} | ${r.published} | ${f(r.bicubic)} | ${f(r.lanczos3)} | ${f(r.old)} | **${f(r.local)}** | +${((r.local as number) - (r.bicubic as number)).toFixed(2)} |`)
}
