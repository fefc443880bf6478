import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { upscale } from '../src/api'
import { server } from './helpers/api'
import { tempProject } from './helpers/project'

describe('the JS API', () => {
  it('enhances a file into outputDir with a content-hashed name, and says when it came from the cache', async () => {
    const root = await tempProject()
    const options = { root, cacheDir: '.cache', outputDir: 'out', urlPath: '/img', scale: 2 as const, logLevel: 'silent' as const }
    const first = await upscale('src/bird.png', options)
    expect(first).toMatchObject({ src: expect.stringMatching(/^\/img\/bird@2x-[\da-f]{8}\.png$/), width: 576, height: 576, format: 'png', originalWidth: 288, scale: 2, type: 'clean', cached: false, source: join(root, 'src/bird.png') })
    expect(first.file).toBe(join(root, 'out', first.src.slice(5)))
    expect(await sharp(first.file).metadata()).toMatchObject({ width: 576, height: 576 })
    expect(await upscale('src/bird.png', options)).toMatchObject({ ...first, cached: true })
  })

  it('takes bytes, and responsive widths and formats (every variant written, listed in `variants`)', async () => {
    const root = await tempProject()
    const bytes = await readFile(join(root, 'src/head.jpg'))
    const r = await upscale(bytes, { root, cacheDir: '.cache', outputDir: 'out', name: 'face.jpg', scale: 2, w: [200, 400], format: ['webp', 'avif'], logLevel: 'silent' })
    expect(r.variants!.map(v => `${v.format} ${v.width}`)).toEqual(['webp 200', 'webp 400', 'avif 200', 'avif 400'])
    expect(r).toMatchObject({ format: 'webp', width: 400, source: 'face.jpg' })
    for (const v of r.variants!)
      expect((await sharp(v.file).metadata()).width).toBe(v.width)
  })

  it('applies presets by glob to upscale() calls; the call\'s own parameters override them', async () => {
    const root = await tempProject()
    const presets = { 'src/b*.png': { scale: 2, format: 'webp', w: [144, 288] }, 'src/**': { scale: 1 } } as const
    const options = { root, cacheDir: '.cache', outputDir: 'out', presets, logLevel: 'silent' as const }
    const r = await upscale('src/bird.png', options)
    expect(r.variants!.map(v => `${v.format} ${v.width}`)).toEqual(['webp 144', 'webp 288'])
    expect(r).toMatchObject({ scale: 2, format: 'webp', width: 288 })
    const own = await upscale('src/bird.png', { ...options, format: 'png', w: 100 })
    expect(own.variants!.map(v => `${v.format} ${v.width}`)).toEqual(['png 100'])
    const head = await upscale('src/head.jpg', options)
    expect(head).toMatchObject({ scale: 1, width: 280 })
    expect(head.variants).toBeUndefined()
    await expect(upscale('src/head.jpg', { ...options, presets: { 'src/**': { scale: 3 as never } } }))
      .rejects.toThrow('option `presets["src/**"]`: `scale` must be one of auto, 1, 2, 4 (got "3")')
  })

  it('fails naming the image and the option: a bad value, a missing file, an image a dry run holds back', async () => {
    const root = await tempProject()
    await expect(upscale('src/bird.png', { root, scale: 3 as never, logLevel: 'silent' })).rejects.toThrow('upscale("src/bird.png"): `scale` must be one of auto, 1, 2, 4 (got "3")')
    await expect(upscale('src/nope.png', { root, logLevel: 'silent' })).rejects.toThrow('[unplugin-upscale] cannot upscale src/nope.png: the file does not exist')
    const s = await server()
    await expect(upscale('src/bird.png', { root, provider: 'api', token: s.token, apiUrl: s.url, dryRun: true, logLevel: 'silent' }))
      .rejects.toThrow('cannot upscale src/bird.png: dry run: it is not in the cache and would be sent to the API (billable)')
    expect(s.stats.requests).toBe(0)
  })
})
