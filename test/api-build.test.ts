import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { api, server } from './helpers/api'
import { emitted, listFiles, tempProject, viteBuild } from './helpers/project'

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')

describe('vite build against the API', () => {
  it.each([false, true])('emits the service\'s results, one task per distinct image (sync %s), and none on a second build', async (sync) => {
    const s = await server()
    const dir = await tempProject()
    await writeFile(join(dir, 'src/other.js'), `export { default } from './bird.png?scale=2&upscale'`)
    const main = `
      import a from './bird.png?scale=2&upscale'
      import b from './other.js'
      import c, { metadata } from './woman.png?upscale'
      import d from './head.jpg?scale=1&type=face&upscale'
      globalThis.result = { a, b, c, d, metadata }
    `
    const { out, result } = await viteBuild(dir, main, api(s, { sync }))
    expect(s.stats.submits).toBe(3)
    expect(s.stats.polls).toBe(sync ? 0 : 3 * 4)
    expect(s.stats.downloads).toBe(3)

    const a = await emitted(out, result.a)
    const c = await emitted(out, result.c)
    const d = await emitted(out, result.d)
    expect(result.b).toBe(result.a)
    expect(a).toMatchObject({ width: 576, height: 576, format: 'png' })
    expect(c).toMatchObject({ width: 228 * 4, height: 344 * 4, format: 'png' })
    expect(d).toMatchObject({ width: 280, height: 280, format: 'jpeg' })
    expect(result.metadata).toMatchObject({ width: 912, height: 1376, originalWidth: 228, scale: 4 })
    // the bytes in the bundle are exactly what the service served
    expect(new Set([sha(a.data), sha(c.data), sha(d.data)])).toEqual(new Set(s.stats.served))

    // what was sent: multipart fields by the contract, the bearer token
    const byName = Object.fromEntries(s.stats.submitted.map(f => [f.image_file_name, f]))
    expect(byName['bird.png']).toMatchObject({ type: 'clean', scale_factor: '2', sync: sync ? '1' : '0', image_file: 120453 })
    expect(byName['woman.png']).not.toHaveProperty('scale_factor') // auto: the service decides
    expect(byName['head.jpg']).toMatchObject({ type: 'face', scale_factor: '1' })
    expect(new Set(s.stats.authorizations)).toEqual(new Set([`Bearer ${s.token}`]))

    // the cache record keeps the provenance, not the token
    const records = (await listFiles(join(dir, '.cache'))).filter(f => /[\da-f]{64}\.json$/.test(f))
    const record = JSON.parse(await readFile(records[0], 'utf8'))
    expect(record).toMatchObject({ provider: 'api', provenance: { taskId: expect.stringMatching(/^[\da-f-]{36}$/), serviceType: expect.any(String), input: 'image_file', sync } })

    const requests = s.stats.requests
    const second = await viteBuild(dir, main, { ...api(s, { sync }), outDir: 'dist2' })
    expect(s.stats.requests).toBe(requests)
    expect(second.result).toEqual(result)
  })

  it('uploads an AVIF as PNG, and fails before paying for an image over the size limits', async () => {
    const s = await server()
    const dir = await tempProject()
    await sharp(join(dir, 'src/bird.png')).avif({ lossless: true }).toFile(join(dir, 'src/bird.avif'))
    const { out, result } = await viteBuild(dir, `import a from './bird.avif?scale=2&upscale'; globalThis.result = { a }`, api(s))
    expect(s.stats.submitted[0]).toMatchObject({ image_file_name: 'bird.avif.png' })
    expect(await emitted(out, result.a)).toMatchObject({ width: 576, format: 'heif' })

    const build = viteBuild(dir, `import a from './woman.png?scale=2&upscale'; globalThis.result = { a }`, api(s, { maxUploadSide: 300 }))
    await expect(build).rejects.toThrow(/cannot upscale src\/woman\.png\?scale=2&upscale \(imported by src\/main\.js\): the image is 228×344 px; the API takes at most 300 px on a side \(option `maxUploadSide`\)/)
    expect(s.stats.submits).toBe(1)
  })

  it('sends image_url for hosted images and forwards callback_url', async () => {
    const s = await server()
    const dir = await tempProject()
    const hosted = s.host('bird.png', await readFile(join(dir, 'src/bird.png')))
    const { out, result } = await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, api(s, {
      publicUrl: (file: string) => file.endsWith('bird.png') ? hosted : undefined,
      callbackUrl: 'https://example.invalid/hook',
    }))
    expect(s.stats.submitted[0]).toMatchObject({ image_url: hosted, callback_url: 'https://example.invalid/hook' })
    expect(s.stats.submitted[0]).not.toHaveProperty('image_file')
    expect(await emitted(out, result.a)).toMatchObject({ width: 576 })
  })
})
