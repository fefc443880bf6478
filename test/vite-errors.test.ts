import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listFiles, tempProject, viteBuild } from './helpers/project'

describe('vite build errors', () => {
  it('names the importer, the import and the allowed values for a bad query', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src/page.js'), `export { default } from './bird.png?type=anime&upscale'`)
    const build = viteBuild(dir, `import p from './page.js'; globalThis.result = { p }`)
    await expect(build).rejects.toThrow(/\[unplugin-upscale\] invalid import src\/bird\.png\?type=anime&upscale \(imported by src\/page\.js\): `type` must be one of clean, face \(got "anime"\)/)
  })

  it.each([
    ['a text file named .jpg', 'fake.jpg', Buffer.from('hello, not a picture'), /the file is not an image sharp can read/],
    ['an empty file', 'empty.png', Buffer.alloc(0), /the file is empty \(0 bytes\)/],
    ['a GIF', 'anim.gif', Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'), /GIF images are not supported; the supported formats are JPEG, PNG, WebP, AVIF and TIFF/],
    ['an SVG', 'logo.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'), /SVG images are not supported; the supported formats are JPEG, PNG, WebP, AVIF and TIFF/],
  ])('fails on %s, naming it and its importer, and caches nothing', async (_, name, bytes, reason) => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src', name), bytes)
    const build = viteBuild(dir, `import a from './${name}?upscale'; globalThis.result = { a }`)
    await expect(build).rejects.toThrow(new RegExp(`cannot upscale src/${name.replace('.', '\\.')}\\?upscale \\(imported by src/main\\.js\\): ${reason.source}`))
    expect(await listFiles(join(dir, '.cache'))).toEqual([])
  })

  it('fails on a truncated JPEG and caches nothing', async () => {
    const dir = await tempProject()
    const jpeg = await readFile(join(dir, 'src/head.jpg'))
    await writeFile(join(dir, 'src/cut.jpg'), jpeg.subarray(0, jpeg.length / 2))
    const build = viteBuild(dir, `import a from './cut.jpg?upscale'; globalThis.result = { a }`)
    await expect(build).rejects.toThrow(/cannot upscale src\/cut\.jpg\?upscale \(imported by src\/main\.js\): .*(premature|truncated|end of|corrupt)/i)
    expect(await listFiles(join(dir, '.cache'))).toEqual([])
  })

  it('fails on a missing file', async () => {
    const dir = await tempProject()
    const build = viteBuild(dir, `import a from './nope.png?upscale'; globalThis.result = { a }`)
    await expect(build).rejects.toThrow(/cannot upscale src\/nope\.png\?upscale \(imported by src\/main\.js\): the file does not exist/)
  })

  it('leaves imports without upscale, and excluded files, to the bundler', async () => {
    const dir = await tempProject()
    const { out, result } = await viteBuild(dir, `
      import plain from './bird.png'
      import excluded from './head.jpg?upscale'
      globalThis.result = { plain, excluded }
    `, { options: { exclude: ['**/head.jpg'] } })
    expect(result.plain).toMatch(/^\/assets\/bird-[\w-]+\.png$/)
    expect(result.excluded).not.toContain('@')
    expect(await listFiles(join(dir, '.cache'))).toEqual([])
    expect(out).toBeTruthy()
  })
})
