import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { api, server } from './helpers/api'
import { emitted, tempProject, viteBuild } from './helpers/project'
import { readmeSnippets } from './helpers/readme'

/** `url 400w, url 800w` → [[url, 400], …] */
const parseSrcset = (srcset: string) => srcset.split(', ').map((part) => {
  const [url, w] = part.split(' ')
  return [url, Number(w.slice(0, -1))] as const
})

describe('responsive variants of the enhanced image', () => {
  it('a picture whose largest variant is the enhanced image itself ships that file once, beside a plain import of it', async () => {
    const dir = await tempProject()
    const main = `import url from './head.jpg?scale=2&upscale'
import picture from './head.jpg?scale=2&w=280;560&format=webp;jpeg&upscale=picture'
globalThis.result = { url, picture }`
    const { out, result } = await viteBuild(dir, main, { options: { provider: 'local' } })
    // the 560-wide JPEG is the enhanced image: one file, one URL (was: head@2x-….jpg and head@2x-560w-….jpg)
    expect(result.picture.img.src).toBe(result.url)
    const files = (await readdir(join(out, 'assets'))).filter(f => !f.endsWith('.js'))
    const hashes = await Promise.all(files.map(async f => createHash('sha256').update(await readFile(join(out, 'assets', f))).digest('hex')))
    expect(new Set(hashes).size, files.join(', ')).toBe(files.length)
    expect(files.filter(f => f.endsWith('.jpg'))).toHaveLength(2) // 280 and 560
  })

  it('the README\'s srcset, picture and metadata imports build, every file the size it says', async () => {
    const dir = await tempProject()
    const [snippet] = readmeSnippets('### Responsive images')
    const main = `${snippet}\nglobalThis.result = { srcset, picture, variants }`
    const { out, result } = await viteBuild(dir, main, { options: { provider: 'local' } })

    // srcset: 480 and 960 wide WebP files from bird.png enhanced 4x (1152 wide)
    const set = parseSrcset(result.srcset)
    expect(set.map(([, w]) => w)).toEqual([480, 960])
    for (const [url, w] of set)
      expect(await emitted(out, url)).toMatchObject({ width: w, height: w, format: 'webp' })

    // picture: AVIF and WebP sources, the fallback <img> a JPEG at the largest width
    expect(result.picture.sources.map((s: { type: string }) => s.type)).toEqual(['image/avif', 'image/webp'])
    for (const source of result.picture.sources) {
      for (const [url, w] of parseSrcset(source.srcset))
        expect(await emitted(out, url)).toMatchObject({ width: w, format: source.type === 'image/avif' ? 'heif' : 'webp' })
    }
    expect(result.picture.img).toMatchObject({ width: 560, height: 560 })
    expect(await emitted(out, result.picture.img.src)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })

    // metadata on a list: an array, one entry per width and format; 2000 is over the enhanced 1152: never enlarged
    expect(result.variants.map((v: { width: number, format: string }) => `${v.format}@${v.width}`)).toEqual(['png@600', 'png@1152'])
    for (const v of result.variants)
      expect(await emitted(out, v.src)).toMatchObject({ width: v.width, height: v.height })
  })

  it('pays for one task per source, however many variants (counted on the loopback API)', async () => {
    const s = await server()
    const dir = await tempProject()
    const main = `import a from './bird.png?scale=2&w=200;300;576&format=webp;avif&as=metadata&upscale'
import b from './bird.png?scale=2&w=100&format=jpeg&as=srcset&upscale'
globalThis.result = { a, b }`
    const { out, result } = await viteBuild(dir, main, api(s))
    expect(s.stats.submits).toBe(1)
    expect(result.a).toHaveLength(6)
    for (const v of result.a)
      expect((await emitted(out, v.src)).width).toBe(v.width)
    // a second build: every variant from the cache, nothing paid
    await viteBuild(dir, main, { ...api(s), outDir: 'again' })
    expect(s.stats.submits).toBe(1)
    const [url, w] = parseSrcset(result.b)[0]
    expect(w).toBe(100)
    expect(await sharp(join(out, url.slice(1))).metadata()).toMatchObject({ width: 100, format: 'jpeg' })
  })
})
