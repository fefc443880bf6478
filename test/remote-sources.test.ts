/**
 * Remote sources meet a hostile server: an endless body, a body that never comes, a huge canvas
 * in a small file, a redirect to a private address, a name that resolves to loopback. Each is
 * bounded and refused with the option to change, and nothing reaches the cache.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { upscale } from '../src/api'
import { tempProject } from './helpers/project'

let origin: string
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>()
const server = createServer((req, res) => {
  const route = routes.get(req.url!.split('?')[0])
  if (route)
    route(req, res)
  else
    res.writeHead(404).end()
})

beforeAll(async () => {
  const huge = await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#336699' } }).png().toBuffer()
  routes.set('/media/huge.png', (_, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(huge))
  routes.set('/media/endless.png', (_, res) => {
    res.writeHead(200, { 'content-type': 'image/png' })
    const chunk = Buffer.alloc(64 * 1024, 1)
    const pump = (): void => {
      while (res.write(chunk)) { /* until the socket pushes back */ }
      res.once('drain', pump)
    }
    res.on('close', () => res.removeAllListeners('drain'))
    pump()
  })
  routes.set('/media/silent.png', () => { /* headers never come */ })
  routes.set('/media/away.png', (_, res) => res.writeHead(301, { location: 'http://10.0.0.1/media/x.png' }).end())
  routes.set('/media/text.png', (_, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('not an image'))
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => {
  server.closeAllConnections()
  return new Promise(r => server.close(r))
})

describe('remote sources from a hostile server', () => {
  const options = (root: string, more: object = {}) => ({
    root,
    cacheDir: '.cache',
    logLevel: 'silent' as const,
    scale: 2 as const,
    remotePatterns: [{ protocol: 'http', hostname: '127.0.0.1', pathname: '/media/**' }],
    ...more,
  })
  /** the cache holds no entry (image or record) after a refusal */
  const entries = async (root: string) => (await readdir(join(root, '.cache'), { recursive: true }).catch(() => []))
    .filter(f => /\.(?:json|png|jpg)$/.test(f) && f.includes('/'))

  it('an endless body stops at maxUploadBytes', { timeout: 30_000 }, async () => {
    const root = await tempProject()
    const started = Date.now()
    await expect(upscale(`${origin}/media/endless.png`, options(root, { maxUploadBytes: 2_000_000 })))
      .rejects.toThrow(/endless\.png" is larger than 2\.0 MB \(option `maxUploadBytes`\)/)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await entries(root)).toEqual([])
  })

  it('a server that never answers is given up after `timeout`', { timeout: 30_000 }, async () => {
    const root = await tempProject()
    const started = Date.now()
    await expect(upscale(`${origin}/media/silent.png`, options(root, { timeout: 500 })))
      .rejects.toThrow(/silent\.png" did not answer in full within 0\.5 s \(option `timeout`\)/)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('a huge canvas in a small file is refused from its header, before anything is decoded', { timeout: 30_000 }, async () => {
    const root = await tempProject()
    await expect(upscale(`${origin}/media/huge.png`, options(root)))
      .rejects.toThrow(/12000×12000 px, so 2x would make 576\.0 megapixels, more than maxOutputPixels/)
    // the download is cached (a warm build revalidates it), the enhancement is not made
    expect((await entries(root)).filter(f => f.endsWith('.png'))).toHaveLength(1)
  })

  it('a redirect to a private address, bytes that are not an image, a wrong status: refused, naming the URL', { timeout: 30_000 }, async () => {
    const root = await tempProject()
    await expect(upscale(`${origin}/media/away.png`, options(root)))
      .rejects.toThrow(/"http:\/\/10\.0\.0\.1\/media\/x\.png" \(redirected from ".*away\.png"\) matches none of `remotePatterns`/)
    await expect(upscale(`${origin}/media/away.png`, options(root, { remotePatterns: [{ hostname: '127.0.0.1' }, { hostname: '**' }] })))
      .rejects.toThrow(/10\.0\.0\.1\/media\/x\.png" \(redirected from .*\) is an internal address/)
    await expect(upscale(`${origin}/media/text.png`, options(root))).rejects.toThrow(/text\.png" is not an image/)
    await expect(upscale(`${origin}/media/none.png`, options(root))).rejects.toThrow(/none\.png" answered HTTP 404; nothing was enhanced/)
    await expect(upscale(`http://user:secret@127.0.0.1:1/media/a.png`, options(root)))
      .rejects.toThrow(/"http:\/\/\*\*\*@127\.0\.0\.1:1\/media\/a\.png" carries a user name or password/)
    expect(await entries(root)).toEqual([])
  })
})
