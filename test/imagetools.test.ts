import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'vite'
import { imagetools } from 'vite-imagetools'
import { describe, expect, it } from 'vitest'
import Upscale from '../src/vite'
import { api, server } from './helpers/api'
import { checkPlaceholder } from './helpers/placeholder'
import { emitted, tempProject } from './helpers/project'

// vite-imagetools 9 (the one that runs on Node 20); test/packed/ runs the current one on Node 22.
const MAIN = `
import plain from './bird.png?upscale'
import webp from './bird.png?w=400&format=webp&upscale'
import meta from './bird.png?scale=2&w=300&format=avif&as=metadata&upscale'
import srcset from './head.jpg?scale=2&w=200;400&format=webp&as=srcset&upscale'
import picture from './head.jpg?scale=2&w=200;400&format=avif;jpg&as=picture&upscale'
globalThis.result = { plain, webp, meta, srcset, picture }
`

async function buildWith(dir: string, order: 'imagetools first' | 'upscale first', options = {}) {
  await writeFile(join(dir, 'src/main.js'), MAIN)
  const upscale = Upscale({ cacheDir: join(dir, '.cache'), provider: 'local', ...options })
  const it = imagetools({ cache: { enabled: false } })
  const out = join(dir, order.startsWith('imagetools') ? 'dist-it' : 'dist-up')
  await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    plugins: order === 'imagetools first' ? [it, upscale] : [upscale, it],
    build: { outDir: out, minify: false, rollupOptions: { input: join(dir, 'src/main.js'), output: { entryFileNames: '[name].js' } } },
  })
  const g = globalThis as { result?: Record<string, any> }
  delete g.result
  await import(`${pathToFileURL(join(out, 'main.js')).href}?t=${Date.now()}`)
  return { out, result: g.result! }
}

describe.each(['imagetools first', 'upscale first'] as const)('vite-imagetools 9, %s', (order) => {
  it('enhances, then imagetools resizes and converts the enhanced file', async () => {
    const dir = await tempProject()
    const { out, result } = await buildWith(dir, order)
    // ?upscale alone: ours, never imagetools' pass-through of the source (was: 288×288)
    expect(await emitted(out, result.plain)).toMatchObject({ width: 1152, format: 'png' })
    // imagetools' w= on the enhanced 1152 px image, not the 288 px source (which it would not enlarge)
    expect(await emitted(out, result.webp)).toMatchObject({ width: 400, format: 'webp' })
    expect(result.webp).toMatch(/bird@4x/)
    expect(result.meta).toMatchObject({ width: 300, format: 'avif' })
    expect(await emitted(out, result.meta.src)).toMatchObject({ width: 300 })
    const set = (result.srcset as string).split(', ').map(s => s.split(' '))
    expect(set.map(([, w]) => w)).toEqual(['200w', '400w'])
    for (const [url, w] of set)
      expect((await emitted(out, url)).width).toBe(Number.parseInt(w))
    // `as=picture` is this plugin's picture (client.d.ts), not imagetools' own: a <source> per
    // format but the last, and the last as the <img>
    expect(result.picture.sources.map((s: { type: string }) => s.type)).toEqual(['image/avif'])
    expect(result.picture.img).toMatchObject({ width: 400 })
    expect(result.meta).toMatchObject({ scale: 2, originalWidth: 288 })
    expect(await emitted(out, result.picture.img.src)).toMatchObject({ width: 400, format: 'jpeg' })
  })
})

describe('vite-imagetools with the API', () => {
  it('pays once per source and scale, whatever imagetools makes of it', async () => {
    const s = await server()
    const dir = await tempProject()
    await buildWith(dir, 'imagetools first', api(s).options)
    // bird at auto (4x) twice, bird at 2x, head at 2x twice: three enhancements
    expect(s.stats.submits).toBe(3)
  })
})

// The shape markers mean what they mean without imagetools, whatever directives stand beside them
const SHAPES = `
import srcset from './head.jpg?scale=2&w=200;400&format=webp&upscale=srcset'
import meta from './bird.png?scale=2&w=100&upscale=metadata'
import picture from './head.jpg?scale=2&w=200;400&format=avif;jpg&as=picture&upscale'
import variants from './bird.png?scale=2&w=100;150&flip&upscale=variants'
globalThis.result = { srcset, meta, picture, variants }
`

describe.each(['imagetools first', 'upscale first'] as const)('shape markers beside imagetools directives, %s', (order) => {
  it('srcset is a string with widths, metadata an object, picture and variants our shapes', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), SHAPES)
    const out = join(dir, 'dist')
    await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: order === 'imagetools first'
        ? [imagetools({ cache: { enabled: false } }), Upscale({ cacheDir: join(dir, '.cache'), provider: 'local' })]
        : [Upscale({ cacheDir: join(dir, '.cache'), provider: 'local' }), imagetools({ cache: { enabled: false } })],
      build: { outDir: out, minify: false, rollupOptions: { input: join(dir, 'src/main.js'), output: { entryFileNames: '[name].js' } } },
    })
    const g = globalThis as { result?: Record<string, any> }
    delete g.result
    await import(`${pathToFileURL(join(out, 'main.js')).href}?t=${Date.now()}`)
    const { srcset, meta, picture, variants } = g.result!
    expect(typeof srcset).toBe('string')
    const set = (srcset as string).split(', ').map(s => s.split(' '))
    expect(set.map(([, w]) => w)).toEqual(['200w', '400w'])
    for (const [url, w] of set)
      expect(await emitted(out, url)).toMatchObject({ width: Number.parseInt(w), format: 'webp' })
    // bird is 288 px: enhanced 2x to 576, then imagetools' w=100
    expect(meta).toMatchObject({ width: 100, format: 'png', originalWidth: 288, scale: 2, type: 'clean' })
    const small = await emitted(out, meta.src)
    expect(small).toMatchObject({ width: 100 })
    // the placeholder is of the enhanced image (imagetools' flip or crop aside, the same picture)
    await checkPlaceholder(meta, small.data)
    expect(picture.sources).toEqual([{ type: 'image/avif', srcset: expect.stringMatching(/ 200w, .* 400w$/) }])
    expect(picture.img).toMatchObject({ width: 400, srcset: expect.stringMatching(/ 200w, .* 400w$/) })
    const fallback = await emitted(out, picture.img.src)
    expect(fallback).toMatchObject({ width: 400, format: 'jpeg' })
    await checkPlaceholder(picture.img, fallback.data)
    expect(variants.map((v: { width: number }) => v.width).sort()).toEqual([100, 150])
    for (const v of variants) {
      expect(v).toMatchObject({ scale: 2, originalWidth: 288, blurDataURL: meta.blurDataURL })
      expect(await emitted(out, v.src)).toMatchObject({ width: v.width })
    }
  })

  it('several widths without a shape is the same error as without imagetools', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), `import a from './bird.png?w=100;200&format=webp&upscale'\nconsole.log(a)\n`)
    const plugins = [imagetools({ cache: { enabled: false } }), Upscale({ cacheDir: join(dir, '.cache'), provider: 'local' })]
    await expect(build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: order === 'imagetools first' ? plugins : plugins.reverse(),
      build: { outDir: join(dir, 'dist'), rollupOptions: { input: join(dir, 'src/main.js') } },
    })).rejects.toThrow(/bird\.png\?w=100;200&format=webp&upscale.*several widths or formats make several files: ask for `as=srcset`/s)
  })
})
