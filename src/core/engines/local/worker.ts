// A worker thread of the local engine (see pool.ts): pixels in, enhanced pixels out.
import type { PixelJob } from './pool'
import { parentPort } from 'node:worker_threads'
import { enhancePixels } from './pixels'

parentPort?.on('message', ({ id, samples, width, height, channels, scale, type, method, jpeg }: PixelJob & { id: number }) => {
  try {
    const pixels = enhancePixels(samples, width, height, channels, scale, type, method, jpeg)
    parentPort!.postMessage({ id, pixels }, [pixels.buffer as ArrayBuffer])
  }
  catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message })
  }
})
