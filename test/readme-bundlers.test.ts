import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { runInNewContext } from 'node:vm'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers/pack'
import { tempProject } from './helpers/project'
import { readmeSnippets } from './helpers/readme'

const run = promisify(execFile)
const bin = (name: string): string => resolve(ROOT, 'node_modules/.bin', name)

/** A project with the README's config, `unplugin-upscale` resolving to this package (its dist/), and one import. */
async function project(file: string, config: string): Promise<string> {
  const dir = await tempProject()
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(ROOT, join(dir, 'node_modules/unplugin-upscale'))
  await writeFile(join(dir, 'package.json'), '{"name":"app","private":true,"type":"module"}')
  await writeFile(join(dir, file), config)
  await writeFile(join(dir, 'src/main.js'), `import url from './bird.png?scale=2&upscale'\nexport default url\nconsole.log(url)\n`)
  return dir
}

/** The one enhanced file in `<dir>/dist/assets`, and the bundle's text. */
async function built(dir: string) {
  const [name] = (await readdir(join(dir, 'dist/assets'))).filter(f => /^bird@2x-[\w-]+\.png$/.test(f))
  const meta = await sharp(join(dir, 'dist/assets', name)).metadata()
  const js = (await Promise.all((await readdir(join(dir, 'dist'))).filter(f => /\.m?js$/.test(f)).map(f => readFile(join(dir, 'dist', f), 'utf8')))).join('\n')
  return { name, width: meta.width, js }
}

const env = { ...process.env, UPSCALE_API_TOKEN: '' }

/** The README's config for each bundler, built by the bundler's own CLI or runtime. */
describe('README bundler sections', () => {
  it('Rolldown: `rolldown -c`', async () => {
    const [config] = readmeSnippets('### Rolldown')
    const dir = await project('rolldown.config.mjs', config)
    await run(bin('rolldown'), ['-c', 'rolldown.config.mjs'], { cwd: dir, env })
    const { name, width, js } = await built(dir)
    expect(width).toBe(576)
    expect(js).toContain(`assets/${name}`)
  })

  it('Bun: `bun build.mjs`', async () => {
    const [script] = readmeSnippets('### Bun')
    const dir = await project('build.mjs', script)
    await run(bin('bun'), ['build.mjs'], { cwd: dir, env })
    const { name, width, js } = await built(dir)
    expect(width).toBe(576)
    expect(js).toContain(`/static/assets/${name}`)
  })

  it('Farm: the config, given to Farm\'s build()', async () => {
    const [config] = readmeSnippets('### Farm')
    const dir = await project('farm.config.mjs', config)
    const script = `import { build } from ${JSON.stringify(import.meta.resolve('@farmfe/core'))}\nimport config from './farm.config.mjs'\nawait build({ ...config, root: process.cwd() })\n`
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env })
    const { name, width, js } = await built(dir)
    expect(width).toBe(576)
    expect(js).toContain(`/static/assets/${name}`)
  })
})

describe('README: With vite-imagetools', () => {
  it('`vite build` with the README\'s config and imports: imagetools resizes the enhanced file', async () => {
    const [config, imports] = readmeSnippets('### With vite-imagetools')
    const dir = await project('vite.config.ts', config)
    await symlink(join(ROOT, 'node_modules/vite-imagetools'), join(dir, 'node_modules/vite-imagetools'))
    // a source large enough that 960 is within the enhanced 1440 (imagetools never enlarges)
    await writeFile(join(dir, 'src/hero.jpg'), await readFile(join(dir, 'src/barbara.jpg')))
    await writeFile(join(dir, 'index.html'), '<script type="module" src="./src/main.js"></script>')
    await writeFile(join(dir, 'src/main.js'), `${imports}\ndocument.body.dataset.r = JSON.stringify({ srcset, flipped })\n`)
    await run(bin('vite'), ['build'], { cwd: dir, env })
    const assets = await readdir(join(dir, 'dist/assets'))
    const images = await Promise.all(assets.filter(f => !/\.(?:js|css)$/.test(f)).map(async (f) => {
      const { width, format } = await sharp(join(dir, 'dist/assets', f)).metadata()
      return `${width} ${format}`
    }))
    // the srcset's two widths in WebP, and the flipped metadata import (480 wide, the source's format)
    expect(images.sort()).toEqual(['480 jpeg', '480 webp', '960 webp'])
    // run the page's script: the srcset string and the metadata, as the page gets them
    const [script] = assets.filter(f => f.endsWith('.js'))
    const body = { dataset: {} as Record<string, string> }
    const document = { body, createElement: () => ({ relList: { supports: () => true } }), querySelectorAll: () => [] }
    runInNewContext(await readFile(join(dir, 'dist/assets', script), 'utf8'), { document })
    const { srcset, flipped } = JSON.parse(body.dataset.r)
    expect(srcset).toMatch(/^\/assets\/\S+\.webp 480w, \/assets\/\S+\.webp 960w$/)
    expect(flipped).toMatchObject({ width: 480, format: 'jpeg', originalWidth: 720, scale: 2 })
  })
})
