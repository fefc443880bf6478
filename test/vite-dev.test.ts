import type { Engine } from '../src/types'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { devServer } from './helpers/dev-server'
import { countingEngine, listFiles, tempProject } from './helpers/project'

/** The local engine, counting its calls and taking `delay` ms longer: a slow API, say. */
function slowEngine(delay: number): { engine: Engine, calls: unknown[] } {
  const { engine, calls } = countingEngine()
  const enhance: Engine['enhance'] = async (r) => {
    await new Promise(res => setTimeout(res, delay))
    return engine.enhance(r)
  }
  return { calls, engine: { ...engine, enhance } }
}

/** Ask for a module until it points at an enhanced image (bounded: the engine is running meanwhile). */
async function untilEnhanced(get: () => Promise<string>): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const code = await get()
    if (code.includes('@upscale/'))
      return code
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error('the module never pointed at an enhanced image')
}

const srcOf = (code: string) => /metadata = \{ src: "([^"]+)"/.exec(code)?.[1]

describe('vite dev server', () => {
  it.each(['/', '/app/'])('serves the original at once on a miss, then the enhanced image (base %s)', async (base) => {
    const dir = await tempProject()
    const { engine, calls } = slowEngine(600)
    const { origin, messages, module } = await devServer(dir, engine, base)
    const path = `${base}src/bird.png?scale=2&upscale&import`

    const started = Date.now()
    const first = await module(path)
    expect(Date.now() - started).toBeLessThan(600) // did not wait for the engine
    expect(first).not.toContain('@upscale/')
    expect(first).toMatch(/import original from "[^"]*\/src\/bird\.png[^"]*"/)
    expect(first).toContain('export const width = 288;')

    const code = await untilEnhanced(() => module(path))
    expect(messages.length).toBeGreaterThan(0) // the page was told to update
    expect(calls).toHaveLength(1)
    expect(code).toContain('export const width = 576;')
    const url = srcOf(code)!
    expect(url.startsWith(`${base}@upscale/`)).toBe(true)

    const image = await fetch(`${origin}${url}`)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/png')
    expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const bytes = Buffer.from(await image.arrayBuffer())
    expect(await sharp(bytes).metadata()).toMatchObject({ width: 576, height: 576, format: 'png' })
    const cached = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.png'))
    expect(cached).toHaveLength(1)
    expect(bytes.equals(await readFile(cached[0]))).toBe(true)

    expect((await fetch(`${origin}${base}@upscale/${'0'.repeat(64)}.png`)).status).toBe(404)
  })

  it('serves a cached image straight away', async () => {
    const dir = await tempProject()
    const { engine, calls } = slowEngine(0)
    const first = await devServer(dir, engine)
    await untilEnhanced(() => first.module('/src/bird.png?scale=2&upscale&import'))
    const again = await devServer(dir, engine)
    expect(await again.module('/src/bird.png?scale=2&upscale&import')).toContain('@upscale/')
    expect(calls).toHaveLength(1)
  })

  it('re-enhances an edited source image and tells the page', async () => {
    const dir = await tempProject()
    const { engine, calls } = slowEngine(0)
    const { origin, messages, module } = await devServer(dir, engine)
    const path = '/src/bird.png?scale=2&upscale&import'
    const before = srcOf(await untilEnhanced(() => module(path)))!
    const count = messages.length

    await writeFile(join(dir, 'src/bird.png'), await sharp(join(dir, 'src/bird.png')).flop().png().toBuffer())
    let after = before
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise(r => setTimeout(r, 50))
      const code = await module(path)
      after = code.includes('@upscale/') ? srcOf(code)! : before
    }
    expect(after).not.toBe(before)
    expect(messages.length).toBeGreaterThan(count)
    expect(calls).toHaveLength(2)
    const [a, b] = await Promise.all([before, after].map(async u => Buffer.from(await (await fetch(`${origin}${u}`)).arrayBuffer())))
    expect(a.equals(b)).toBe(false)
    expect(await sharp(b).metadata()).toMatchObject({ width: 576 })
  })

  it('answers a bad query with an error naming the parameter', async () => {
    const dir = await tempProject()
    const { origin } = await devServer(dir, countingEngine().engine)
    const res = await fetch(`${origin}/src/bird.png?scale=3&upscale&import`)
    expect(res.status).toBe(500)
    const body = await res.text()
    expect(body).toMatch(/invalid import src\/bird.png\?scale=3&upscale/)
    expect(body).toMatch(/`scale` must be one of auto, 1, 2, 4/)
  })
})
