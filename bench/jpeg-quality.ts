import type { FloatImage } from '../src/core/engines/local/resample'
/**
 * The JPEG protocol of docs/quality.md: the protocol's small image (or, at x1, the image itself)
 * saved as a JPEG by sharp's default encoder (4:2:0 chroma) at quality 50, 75 and 90, then
 * enlarged; PSNR-Y against the image before compression, beside centre-aligned bicubic of the
 * decoded JPEG (x1: the decoded JPEG itself) and the engine without its JPEG correction.
 *   npx tsx bench/jpeg-quality.ts [--data <dir>] [--sets set14,bsd100] [--q 50,75,90] [--scales 1,2,4]
 */
import type { ScaleFactor } from '../src/types'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { enhancePixels } from '../src/core/engines/local'
import { jpegQuality } from '../src/core/engines/local/jpeg'
import { bicubic, resize } from '../src/core/engines/local/resample'
import { dataDir, imagesOf, requireImages } from './data'
import { degrade, loadRgb, modcrop, psnrY, quantize } from './quality'

export interface JpegRow {
  set: string
  quality: number
  scale: ScaleFactor
  baseline: number
  before: number
  ours: number
}

/** The image saved as a JPEG at `quality` by sharp's defaults: its bytes and its decoded pixels. */
export async function asJpeg(img: FloatImage, quality: number): Promise<{ file: Buffer, decoded: FloatImage }> {
  const raw = { width: img.width, height: img.height, channels: 3 as const }
  const bytes = Uint8Array.from(img.data, v => Math.min(255, Math.max(0, Math.round(v))))
  const file = await sharp(Buffer.from(bytes), { raw }).jpeg({ quality }).toBuffer()
  return { file, decoded: await loadRgb(file) }
}

/** What the local engine makes of a JPEG file: its pixels, before the cache's own encoding. */
type Jpeg = { file: Buffer, decoded: FloatImage }
function engine({ file, decoded }: Jpeg, scale: ScaleFactor, correct: boolean): FloatImage {
  const bytes = Uint8Array.from(decoded.data)
  const out = enhancePixels(bytes, decoded.width, decoded.height, 3, scale, 'clean', 'learned', correct ? jpegQuality(file) : undefined)
  return { data: Float32Array.from(out), width: decoded.width * scale, height: decoded.height * scale, channels: 3 }
}

interface JpegProtocol { sets?: string[], qualities?: number[], scales?: ScaleFactor[] }

export async function jpegRows(protocol: JpegProtocol = {}): Promise<JpegRow[]> {
  const { sets, qualities = [50, 75, 90], scales = [1, 2, 4] } = protocol
  const dir = dataDir()
  const names = sets ?? ['set14', ...(imagesOf('bsd100', dir)?.length ? ['bsd100'] : [])]
  const rows: JpegRow[] = []
  for (const set of names) {
    const files = requireImages(set, dir)
    for (const quality of qualities) {
      for (const scale of scales) {
        const sum = { baseline: 0, before: 0, ours: 0 }
        for (const f of files) {
          const hr = modcrop(await loadRgb(f), scale)
          const jpeg = await asJpeg(scale === 1 ? hr : degrade(hr, scale), quality)
          const baseline = scale === 1 ? jpeg.decoded : quantize(resize(jpeg.decoded, hr.width, hr.height, bicubic))
          sum.baseline += psnrY(baseline, hr, scale)
          sum.before += psnrY(engine(jpeg, scale, false), hr, scale)
          sum.ours += psnrY(engine(jpeg, scale, true), hr, scale)
        }
        const n = files.length
        rows.push({ set, quality, scale, baseline: sum.baseline / n, before: sum.before / n, ours: sum.ours / n })
      }
    }
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { data: { type: 'string' }, sets: { type: 'string' }, q: { type: 'string' }, scales: { type: 'string' } } })
  const list = (v?: string) => v?.split(',').map(Number)
  const rows = await jpegRows({ sets: values.sets?.split(','), qualities: list(values.q), scales: list(values.scales) as ScaleFactor[] | undefined })
  const d = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`
  console.log('| set | JPEG quality | scale | baseline (dB) | engine without the correction | with it (shipped) |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows)
    console.log(`| ${r.set} | ${r.quality} | x${r.scale} | ${r.baseline.toFixed(2)} | ${d(r.before - r.baseline)} | **${d(r.ours - r.baseline)}** |`)
}
