import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import sharp from 'sharp'
import { createServer } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import Upscale from '../src/vite'
import { countingEngine, listFiles, tempProject } from './helpers/project'

async function devServer(dir: string, base = '/') {
  const { engine, calls } = countingEngine()
  const server = await createServer({
    root: dir,
    base,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, ws: false },
    plugins: [Upscale({ cacheDir: join(dir, '.cache'), engine })],
  })
  await server.listen()
  onTestFinished(() => server.close())
  const { port } = server.httpServer!.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, calls }
}

describe('vite dev server', () => {
  it.each(['/', '/app/'])('serves the module and the enhanced image it points to (base %s)', async (base) => {
    const dir = await tempProject()
    const { origin, calls } = await devServer(dir, base)

    const mod = await fetch(`${origin}${base}src/bird.png?scale=2&upscale&import`)
    expect(mod.status).toBe(200)
    expect(mod.headers.get('content-type')).toMatch(/javascript/)
    const code = await mod.text()
    const url = /const src = "([^"]+)"/.exec(code)![1]
    expect(url.startsWith(`${base}@upscale/`)).toBe(true)
    expect(code).toContain('export const width = 576;')
    expect(calls).toHaveLength(1)

    const image = await fetch(`${origin}${url}`)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/png')
    const bytes = Buffer.from(await image.arrayBuffer())
    expect(await sharp(bytes).metadata()).toMatchObject({ width: 576, height: 576, format: 'png' })
    // exactly the cached result
    const cached = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.png'))
    expect(cached).toHaveLength(1)
    const { readFile } = await import('node:fs/promises')
    expect(bytes.equals(await readFile(cached[0]))).toBe(true)

    expect((await fetch(`${origin}${base}@upscale/${'0'.repeat(64)}.png`)).status).toBe(404)
  })

  it('answers a bad query with an error naming the parameter', async () => {
    const dir = await tempProject()
    const { origin } = await devServer(dir)
    const res = await fetch(`${origin}/src/bird.png?scale=3&upscale&import`)
    expect(res.status).toBe(500)
    const body = await res.text()
    expect(body).toMatch(/invalid import src\/bird.png\?scale=3&upscale/)
    expect(body).toMatch(/`scale` must be one of auto, 1, 2, 4/)
  })
})
