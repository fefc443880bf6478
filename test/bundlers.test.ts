import type { BundlerName } from './helpers/bundlers'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { bundlers, writeMain } from './helpers/bundlers'
import { checkPlaceholder } from './helpers/placeholder'
import { countingEngine, tempProject } from './helpers/project'

// The same fixture app for every bundler: README examples in small.
const MAIN = `
import bird from './bird.png?scale=2&upscale'
import meta from './head.jpg?scale=2&type=face&as=metadata&upscale'
import webp, { width, height, format } from './woman.png?scale=2&format=webp&upscale'
import plain from './butterfly.png'
globalThis.result = { bird, meta, webp, width, height, format, plain }
`

/** Where a URL in the bundle points: a public path URL, or a file URL relative to the chunk (Rollup). */
function fileOf(url: string, out: string, publicPath: string | undefined): string {
  if (url.startsWith('file:'))
    return fileURLToPath(url)
  if (publicPath) {
    expect(url.startsWith(publicPath), `${url} starts with ${publicPath}`).toBe(true)
    return join(out, url.slice(publicPath.length))
  }
  return join(out, url)
}

async function run(entry: string): Promise<Record<string, any>> {
  const g = globalThis as { result?: Record<string, any> }
  delete g.result
  await import(`${pathToFileURL(entry).href}?t=${Date.now()}`)
  return g.result!
}

describe.each(Object.keys(bundlers) as BundlerName[])('%s', (name) => {
  it('emits enhanced images as assets and exports URLs that point at them', async () => {
    const dir = await tempProject()
    await writeMain(dir, MAIN)
    const { engine, calls } = countingEngine()
    const built: { out: string, entry: string, publicPath?: string, output?: string } = await bundlers[name](dir, { cacheDir: join(dir, '.cache'), engine })
    const { out, entry, publicPath } = built
    const result = await run(entry)

    const bird = await sharp(await readFile(fileOf(result.bird, out, publicPath))).metadata()
    expect(bird).toMatchObject({ width: 576, height: 576, format: 'png' })
    expect(result.bird).toMatch(/bird@2x-[\w-]+\.png$/)

    const head = fileOf(result.meta.src, out, publicPath)
    expect(await sharp(head).metadata()).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
    expect(result.meta).toMatchObject({ width: 560, height: 560, format: 'jpeg', originalWidth: 280, scale: 2, type: 'face' })
    await checkPlaceholder(result.meta, head)

    const webp = await sharp(fileOf(result.webp, out, publicPath)).metadata()
    expect(webp).toMatchObject({ width: 456, height: 688, format: 'webp' })
    expect({ width: result.width, height: result.height, format: result.format }).toEqual({ width: 456, height: 688, format: 'webp' })

    // the plain import is left to the bundler's own image handling
    expect(result.plain).not.toContain('@')
    if (name === 'bun' || name === 'farm')
      expect(built.output).toMatch(/3 images: 0 cached, 3 enhanced \(3 local\), 0 failed/)
    else
      expect(calls).toHaveLength(3)
  })

  it('fails on a bad query with the importer, the import and the allowed values', async () => {
    const dir = await tempProject()
    await writeMain(dir, `import a from './bird.png?scale=3&upscale'; globalThis.result = { a }`)
    await expect(bundlers[name](dir, { cacheDir: join(dir, '.cache') })).rejects.toThrow(/invalid import src\/bird\.png\?scale=3&upscale \(imported by src\/main\.js\): `scale` must be one of auto, 1, 2, 4 \(got "3"\)/)
  })
})
