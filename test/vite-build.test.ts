import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { checkPlaceholder } from './helpers/placeholder'
import { countingEngine, emitted, FIXTURES, tempProject, viteBuild } from './helpers/project'

describe('vite build', () => {
  it('emits enhanced images at source × scale for 1, 2, 4 and auto', async () => {
    const dir = await tempProject()
    const { out, result } = await viteBuild(dir, `
      import s1 from './bird.png?scale=1&upscale'
      import s2 from './bird.png?scale=2&upscale'
      import s4, { width, height, format, metadata } from './bird.png?scale=4&upscale'
      import auto4 from './woman.png?upscale'
      import auto2 from './barbara.jpg?upscale'
      globalThis.result = { s1, s2, s4, width, height, format, metadata, auto4, auto2 }
    `)
    expect(await emitted(out, result.s1)).toMatchObject({ width: 288, height: 288, format: 'png' })
    expect(await emitted(out, result.s2)).toMatchObject({ width: 576, height: 576, format: 'png' })
    const four = await emitted(out, result.s4)
    expect(four).toMatchObject({ width: 1152, height: 1152, format: 'png' })
    expect(await emitted(out, result.auto4)).toMatchObject({ width: 228 * 4, height: 344 * 4 })
    expect(await emitted(out, result.auto2)).toMatchObject({ width: 720 * 2, height: 576 * 2, format: 'jpeg' })

    // the named exports describe the emitted file
    expect({ width: result.width, height: result.height, format: result.format }).toEqual({ width: 1152, height: 1152, format: 'png' })
    expect(result.metadata).toEqual({
      src: result.s4, width: 1152, height: 1152, format: 'png', originalWidth: 288, originalHeight: 288, scale: 4, type: 'clean',
    })
    // the enhanced image is really new pixels, not the source copied
    expect(four.data.equals(await readFile(join(FIXTURES, 'bird.png')))).toBe(false)
    expect(result.s4).toMatch(/^\/assets\/bird@4x-[\w-]+\.png$/)
  })

  it('exports metadata as the default with as=metadata, and converts formats', async () => {
    const dir = await tempProject()
    const { out, result } = await viteBuild(dir, `
      import meta from './head.jpg?as=metadata&scale=2&type=face&upscale'
      import webp, { format } from './head.jpg?format=webp&quality=70&scale=2&upscale'
      import avif from './bird.png?scale=1&format=avif&upscale'
      globalThis.result = { meta, webp, format, avif }
    `)
    const file = await emitted(out, result.meta.src)
    expect(result.meta).toEqual({
      src: result.meta.src, width: file.width, height: file.height, format: 'jpeg', originalWidth: 280, originalHeight: 280, scale: 2, type: 'face',
      blurDataURL: expect.stringMatching(/^data:image\/webp;base64,/), blurWidth: 16, blurHeight: 16, dominantColor: expect.stringMatching(/^#[\da-f]{6}$/),
    })
    await checkPlaceholder(result.meta, file.data)
    expect(file).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
    expect(await emitted(out, result.webp)).toMatchObject({ width: 560, height: 560, format: 'webp' })
    expect(result.format).toBe('webp')
    expect(result.webp).toMatch(/\.webp$/)
    const avif = await sharp(join(out, result.avif)).metadata()
    expect(avif).toMatchObject({ format: 'heif', compression: 'av1', width: 288 })
  })

  it('enhances each distinct image once, and a second build makes no engine calls', async () => {
    const dir = await tempProject()
    const { engine, calls } = countingEngine()
    const main = `
      import a from './a.js'
      import b from './b.js'
      import c from './butterfly.png?scale=2&upscale'
      import d from './butterfly.png?scale=2&format=webp&upscale'
      globalThis.result = { a, b, c, d }
    `
    await writeFile(join(dir, 'src/a.js'), `export { default } from './bird.png?scale=2&upscale'`)
    await writeFile(join(dir, 'src/b.js'), `export { default } from './bird.png?upscale&scale=2'`)
    const first = await viteBuild(dir, main, { options: { engine } })
    expect(calls.map(c => c.file.split('/').pop()).sort()).toEqual(['bird.png', 'butterfly.png'])
    const files = await Promise.all(Object.values(first.result).map(u => emitted(first.out, u as string)))

    calls.length = 0
    const second = await viteBuild(dir, main, { options: { engine }, outDir: 'dist2' })
    expect(calls).toHaveLength(0)
    // a cache hit gives the same module and the same bytes as the miss did
    expect(second.result).toEqual(first.result)
    for (const [i, url] of Object.values(second.result).entries())
      expect((await emitted(second.out, url as string)).data.equals(files[i].data)).toBe(true)
  })

  it('rebuilds after the cache is deleted, to the same bytes', async () => {
    const dir = await tempProject()
    const { engine, calls } = countingEngine()
    const main = `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`
    const first = await viteBuild(dir, main, { options: { engine } })
    await rm(join(dir, '.cache'), { recursive: true })
    const second = await viteBuild(dir, main, { options: { engine }, outDir: 'dist2' })
    expect(calls).toHaveLength(2)
    expect(second.result.a).toBe(first.result.a)
    const [a, b] = await Promise.all([emitted(first.out, first.result.a), emitted(second.out, second.result.a)])
    expect(b.data.equals(a.data)).toBe(true)
  })

  it('respects base and build.assetsDir, and the SSR build exports the same URL as the client build', async () => {
    const dir = await tempProject()
    const main = `import a, { metadata } from './bird.png?scale=2&upscale'; globalThis.result = { a, metadata }`
    const client = await viteBuild(dir, main, { base: '/static/', assetsDir: 'img' })
    expect(client.result.a).toMatch(/^\/static\/img\/bird@2x-[\w-]+\.png$/)
    expect(await emitted(client.out, client.result.a, '/static/')).toMatchObject({ width: 576 })
    const ssr = await viteBuild(dir, main, { base: '/static/', assetsDir: 'img', ssr: true, outDir: 'server' })
    expect(ssr.result.a).toBe(client.result.a)
    expect(ssr.result.metadata).toEqual(client.result.metadata)
  })
})
