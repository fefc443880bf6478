import type { Engine, EnhanceRequest, EnhanceResult } from '../../../types'
import type { LocalMethod } from './pixels'
import { decode, encode, originalOutputFormat } from '../../image'
import { localEngineSlots } from '../../state'
import { FACE_AMOUNT, FACE_BLEND, SHARPEN } from './pixels'
import { enhanceOnWorker } from './pool'
import { ANTIRING } from './raisr'
import { kernel } from './simd'
import { shippedBank } from './weights'

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
    version: method === 'lanczos' ? lanczos : `raisr-2:${digests()}:${ANTIRING}:${FACE_BLEND}:${kernel()}/${lanczos}`,
    enhance: request => localEngineSlots.use(() => enhance(request, method)),
  }
}

const digests = (): string => `${shippedBank(2).digest}:${shippedBank(4).digest}`

async function enhance({ source, info, scale, type }: EnhanceRequest, method: LocalMethod): Promise<EnhanceResult> {
  const format = originalOutputFormat(info)
  // 16-bit sources keep their depth where the output format has it (PNG; TIFF is written as PNG)
  const raw = await decode(source, info.depth === 16 && format === 'png' ? 16 : 8)
  const { data: bytes } = raw
  const samples = raw.depth === 16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : bytes
  // the pixel work runs on a worker thread, so a build's images use every core
  const { width, height, channels } = raw
  const { pixels, thread } = await enhanceOnWorker({ samples, width, height, channels, scale, type, method })
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
  return { data, provenance: { engine: 'local', method: scale === 1 ? 'lanczos' : method, scale, type, thread } }
}
