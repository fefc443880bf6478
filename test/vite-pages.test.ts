// `?upscale` URLs that are no imports: a stylesheet's url() (plain, CSS modules, Sass) and a
// page's src/srcset, in `vite build` and on the dev server (was: the original, silently).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as esbuild from 'esbuild'
import sharp from 'sharp'
import { build, createServer } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import UpscaleEsbuild from '../src/esbuild'
import Upscale from '../src/vite'
import { countingEngine, tempProject } from './helpers/project'

async function site(dir: string): Promise<void> {
  await writeFile(join(dir, 'index.html'), `<!doctype html>
<link rel="stylesheet" href="./src/style.css">
<img id="one" src="./src/bird.png?scale=2&amp;upscale" alt="">
<img id="two" srcset="./src/woman.png?scale=2&upscale 2x, ./src/head.jpg 1x" alt="">
<script type="module" src="./src/main.js"></script>
`)
  await writeFile(join(dir, 'src/style.css'), `.hero { background: url('./bird.png?scale=4&upscale') }\n`)
  await writeFile(join(dir, 'src/card.module.css'), `.card { background-image: url(./head.jpg?scale=2&upscale) }\n`)
  await writeFile(join(dir, 'src/deep.scss'), `$size: 10px;\n.deep { padding: $size; background: url("./butterfly.png?scale=2&upscale") }\n`)
  await writeFile(join(dir, 'src/main.js'), `import styles from './card.module.css'\nimport './deep.scss'\ndocument.body.className = styles.card\n`)
}

/** The width of the file a built URL names. */
async function widthOf(out: string, url: string): Promise<number> {
  return (await sharp(join(out, url.replace(/^\//, ''))).metadata()).width!
}

describe('?upscale in stylesheets and pages', () => {
  it('`vite build`: page src/srcset and every stylesheet url() point at enhanced files', async () => {
    const dir = await tempProject()
    await site(dir)
    const { engine, calls } = countingEngine()
    await build({ root: dir, configFile: false, logLevel: 'silent', plugins: [Upscale({ cacheDir: join(dir, '.cache'), engine })], build: { assetsInlineLimit: 0 } })
    const out = join(dir, 'dist')
    const html = await readFile(join(out, 'index.html'), 'utf8')
    const one = /id="one" src="([^"]+)"/.exec(html)![1]
    expect(one).toMatch(/^\/assets\/bird@2x-[\da-f]{8}\.png$/)
    expect(await widthOf(out, one)).toBe(576)
    const [two, plain] = /id="two" srcset="([^"]+)"/.exec(html)![1].split(', ').map(c => c.split(' ')[0])
    expect(await widthOf(out, two)).toBe(456)
    expect(await widthOf(out, plain)).toBe(280) // left to Vite, as it was

    const css = (await Promise.all((await readdir(join(out, 'assets'))).filter(f => f.endsWith('.css')).map(f => readFile(join(out, 'assets', f), 'utf8')))).join('\n')
    const urls = [...css.matchAll(/url\(([^)]+)\)/g)].map(m => m[1].replace(/["']/g, ''))
    const widths = await Promise.all(urls.map(u => widthOf(out, u)))
    // bird 4x (style.css), head 2x (CSS module), butterfly 2x (Sass)
    expect(widths.sort((a, b) => a - b)).toEqual([512, 560, 1152])
    expect(css).not.toContain('upscale')
    expect(calls).toHaveLength(5)
  })

  it('dev: the original at once, then the enhanced one; a cleared cache is made again on the next request', { timeout: 60_000 }, async () => {
    const dir = await tempProject()
    await site(dir)
    const { engine } = countingEngine()
    const server = await createServer({ root: dir, configFile: false, logLevel: 'silent', server: { host: '127.0.0.1', port: 0, ws: false }, plugins: [Upscale({ cacheDir: join(dir, '.cache'), engine })] })
    await server.listen()
    onTestFinished(() => server.close())
    const origin = server.resolvedUrls!.local[0].replace(/\/$/, '')
    const get = (path: string) => fetch(`${origin}${path}`).then(r => r.text())

    const first = await get('/')
    expect(first).toMatch(/id="one" src="[^"]*\/src\/bird\.png"/)
    let page = first
    for (let i = 0; i < 100 && !/id="one" src="\/@upscale\//.test(page); i++) {
      await new Promise(r => setTimeout(r, 50))
      page = await get('/')
    }
    const url = /id="one" src="([^"]+)"/.exec(page)![1]
    expect(url).toMatch(/^\/@upscale\/[\da-f]{64}\.png$/)
    const image = Buffer.from(await (await fetch(`${origin}${url}`)).arrayBuffer())
    expect((await sharp(image).metadata()).width).toBe(576)

    // the stylesheet, as the browser gets it, points at the enhanced image once it is ready
    let css = ''
    for (let i = 0; i < 100 && !css.includes('/@upscale/'); i++) {
      css = await get('/src/style.css?direct')
      if (!css.includes('/@upscale/'))
        await new Promise(r => setTimeout(r, 50))
    }
    expect(css).toMatch(/url\(['"]?\/@upscale\/[\da-f]{64}\.png['"]?\)/)

    // the README's "Clearing it" while the server runs: the next request makes it again
    await rm(join(dir, '.cache'), { recursive: true, force: true })
    const again = await fetch(`${origin}${url}`)
    expect(again.status).toBe(200)
    expect((await sharp(Buffer.from(await again.arrayBuffer())).metadata()).width).toBe(576)
  })

  it('esbuild, which cannot take them, fails naming the stylesheet (never the original passed off as enhanced)', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src/style.css'), `.hero { background: url('./bird.png?scale=4&upscale') }\n`)
    await writeFile(join(dir, 'src/main.js'), `import './style.css'\n`)
    const run = esbuild.build({ entryPoints: [join(dir, 'src/main.js')], bundle: true, outdir: join(dir, 'out'), absWorkingDir: dir, logLevel: 'silent', loader: { '.png': 'file' }, plugins: [UpscaleEsbuild({ cacheDir: join(dir, '.cache') })] })
    await expect(run).rejects.toThrow(/src\/style\.css: `\?upscale` URLs in stylesheets need Vite; with esbuild, import the image from JavaScript instead/)
  })
})
