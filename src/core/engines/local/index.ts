import type { Engine, EnhanceRequest, EnhanceResult } from '../../../types'
import type { LocalMethod } from './pixels'
import { decode, encode, originalOutputFormat } from '../../image'
import { localEngineSlots } from '../../state'
import { jpegQuality } from './jpeg'
import { FACE_AMOUNT, FACE_BLEND, SHARPEN } from './pixels'
import { enhanceOnWorker } from './pool'
import { ANTIRING } from './raisr'
import { kernel } from './simd'
import { deblockFile, jpegBand, weightsDigest } from './weights'

export { enhancePixels, FACE_AMOUNT, FACE_BLEND, SHARPEN, sharpenFor } from './pixels'
export type { LocalMethod } from './pixels'

/**
 * The embedded engine: no network, no download (its filters ship in the package), the same output
 * on every machine. Its version names the filters' bytes, so new weights make new cache entries.
 */
export function createLocalEngine({ method = 'learned' }: { method?: LocalMethod } = {}): Engine {
  const lanczos = `lanczos3-usm-3:${JSON.stringify(SHARPEN)}:${FACE_AMOUNT}`
  return {
    id: 'local',
    version: method === 'lanczos' ? lanczos : `raisr-2:${weightsDigest()}:${ANTIRING}:${FACE_BLEND}:${kernel()}/${lanczos}`,
    enhance: request => localEngineSlots.use(() => enhance(request, method)),
  }
}

async function enhance({ source, info, scale, type }: EnhanceRequest, method: LocalMethod): Promise<EnhanceResult> {
  // a JPEG's quality, from its quantisation table: which learned correction its artifacts get
  const quality = info.format === 'jpeg' && method === 'learned' ? jpegQuality(source) : undefined
  const bank = quality === undefined ? undefined : jpegBand(quality)
  const jpeg = bank && quality
  // a JPEG corrected at scale 1 is kept losslessly: saved as a JPEG again it would lose more than
  // the correction gains (the output format, `original` included, is converted from it)
  const format = jpeg && scale === 1 ? 'png' : originalOutputFormat(info)
  // 16-bit sources keep their depth where the output format has it (PNG; TIFF is written as PNG)
  const raw = await decode(source, info.depth === 16 && format === 'png' ? 16 : 8)
  const { data: bytes } = raw
  const samples = raw.depth === 16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : bytes
  // the pixel work runs on a worker thread, so a build's images use every core
  const { width, height, channels } = raw
  const { pixels, thread } = await enhanceOnWorker({ samples, width, height, channels, scale, type, method, jpeg })
  const data = await encode(
    {
      data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
      width: raw.width * scale,
      height: raw.height * scale,
      channels: raw.channels,
      depth: raw.depth,
    },
    format,
  )
  const how = scale === 1 ? (bank ? 'jpeg' : 'lanczos') : method
  const jpegFields = bank && { jpegQuality: quality, jpegBank: deblockFile(bank) }
  return { data, provenance: { engine: 'local', method: how, scale, type, thread, ...jpegFields } }
}
