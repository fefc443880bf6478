import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DiskCache } from './cache'

/** Dev-server URLs of enhanced images: `<base>@upscale/<cache key>.<ext>`. */
export const DEV_PREFIX = '@upscale/'
const DEV_URL = /\/@upscale\/([a-f\d]{64})\.(jpg|png|webp|avif)$/
const MIME: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif' }

export function devUrl(base: string, key: string, ext: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}${DEV_PREFIX}${key}.${ext}`
}

/**
 * A connect middleware that serves enhanced images straight from the cache: only verified entries
 * (regular files the cache wrote, matching their records), never a link planted at a name.
 */
export function devMiddleware(cache: () => DiskCache, makeAgain: (key: string) => Promise<void>) {
  return async (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): Promise<void> => {
    const match = DEV_URL.exec((req.url ?? '').split('?')[0])
    if (!match)
      return next()
    const [, key, ext] = match
    const format = ext === 'jpg' ? 'jpeg' : ext
    const read = async (): Promise<Buffer | undefined> => {
      const found = await cache().lookup(key).catch(() => undefined)
      return found && 'entry' in found && found.entry.record.format === format ? found.entry.data : undefined
    }
    let data = await read()
    if (!data) {
      // gone from the cache since the page got its URL (the cache was cleared): make it again
      await makeAgain(key).catch(() => {})
      data = await read()
    }
    if (!data) {
      res.statusCode = 404
      res.end('not in the unplugin-upscale cache')
      return
    }
    res.setHeader('Content-Type', MIME[ext])
    res.setHeader('Content-Length', data.length)
    // the name is the cache key of the result, so the bytes behind it never change
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable')
    res.end(data)
  }
}
