/**
 * Placeholders, html(), presets and remote sources, as users get them: the packed package installed
 * into one fresh app with Vite, Astro 5 and Eleventy 3, each building a real site.
 */
import type { PackedApp } from './helpers/pack'
import type { ScaleServer } from './server'
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { parse } from 'parse5'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installedVersion, packedApp, run } from './helpers/pack'
import { checkPlaceholder } from './helpers/placeholder'
import { FIXTURES } from './helpers/project'
import { readmeSnippets } from './helpers/readme'
import { startScaleServer } from './server'

let packed: PackedApp
let app: string
const env = (more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
  ({ ...process.env, UPSCALE_API_TOKEN: '', ASTRO_TELEMETRY_DISABLED: '1', NODE_ENV: undefined, ...more })

beforeAll(async () => {
  const versions = await Promise.all(['vite', 'astro', '@11ty/eleventy'].map(async n => `${n}@${await installedVersion(n)}`))
  packed = await packedApp(versions, { shared: true })
  app = packed.app
}, 300_000)
afterAll(() => packed?.dispose())

/** A site folder of its own inside the app (so it finds the app's node_modules). */
async function site(name: string, files: Record<string, string>, images: Record<string, string> = {}): Promise<string> {
  const dir = join(app, name)
  await rm(dir, { recursive: true, force: true })
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  for (const [path, fixture] of Object.entries(images)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await cp(join(FIXTURES, fixture), join(dir, path))
  }
  return dir
}

const bin = (name: string): string => join(app, 'node_modules/.bin', name)

/** Elements of a parsed page, depth first. */
type Node = { nodeName: string, attrs?: Array<{ name: string, value: string }>, childNodes?: Node[] }
function elements(html: string, name: string): Array<Record<string, string>> {
  const found: Array<Record<string, string>> = []
  const walk = (node: Node): void => {
    if (node.nodeName === name)
      found.push(Object.fromEntries((node.attrs ?? []).map(a => [a.name, a.value])))
    node.childNodes?.forEach(walk)
    const { content } = node as { content?: Node }
    if (content)
      walk(content)
  }
  walk(parse(html) as unknown as Node)
  return found
}

describe('placeholders and presets in a Vite build', () => {
  const config = `import Upscale from 'unplugin-upscale/vite'
export default {
  plugins: [Upscale({ presets: { 'src/photos/**': { scale: 2, format: 'webp', quality: 80 }, 'src/**/never.png': { scale: 4 } } })],
  build: { minify: false, rollupOptions: { input: { main: 'src/main.js', url: 'src/url.js' }, output: { entryFileNames: '[name].js' } } },
}
`
  const main = `import meta from './bird.png?scale=2&upscale=metadata'
import variants from './bird.png?scale=2&w=144;288&upscale=variants'
import picture from './head.jpg?scale=2&format=webp;jpeg&upscale=picture'
import preset from './photos/bird.png?upscale=metadata'
import override from './photos/head.jpg?scale=1&format=jpeg&upscale=metadata'
import './style.css'
globalThis.result = { meta, variants, picture, preset, override }
`
  const read = async (dir: string) => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e',
      `await import(${JSON.stringify(join(dir, 'dist/main.js'))}); console.log(JSON.stringify(globalThis.result))`], { cwd: dir })
    return JSON.parse(stdout)
  }

  it('every metadata shape carries a placeholder of the enhanced image, the same warm; a URL import none', { timeout: 180_000 }, async () => {
    const dir = await site('vite-site', {
      'package.json': JSON.stringify({ name: 'vite-site', private: true, type: 'module' }),
      'vite.config.js': config,
      'src/main.js': main,
      'src/url.js': `import url from './bird.png?scale=2&upscale'\nglobalThis.url = url\n`,
      'src/style.css': `.hero { background-image: url('./photos/head.jpg?upscale'); }\n`,
    }, { 'src/bird.png': 'bird.png', 'src/head.jpg': 'head.jpg', 'src/photos/bird.png': 'bird.png', 'src/photos/head.jpg': 'head.jpg' })
    const cold = await run(bin('vite'), ['build'], { cwd: dir, env: env() })
    expect(cold.stdout).toMatch(/\[unplugin-upscale\] 7 images: 0 cached, 7 enhanced/)
    const result = await read(dir)
    const file = (src: string): string => join(dir, 'dist', src)

    await checkPlaceholder(result.meta, file(result.meta.src))
    expect(result.meta).toMatchObject({ width: 576, height: 576, blurWidth: 16, blurHeight: 16 })
    // variants: each entry, one placeholder for all (the same picture)
    expect(result.variants.map((v: { width: number }) => v.width)).toEqual([144, 288])
    for (const v of result.variants) {
      await checkPlaceholder(v, file(v.src))
      expect(v.blurDataURL).toBe(result.variants[0].blurDataURL)
    }
    await checkPlaceholder(result.picture.img, file(result.picture.img.src))
    expect(result.picture.img.width).toBe(560)

    // the preset of src/photos: 2x, WebP; the query's own scale and format override it
    expect(result.preset).toMatchObject({ width: 576, format: 'webp', scale: 2 })
    expect(await sharp(file(result.preset.src)).metadata()).toMatchObject({ width: 576, format: 'webp' })
    await checkPlaceholder(result.preset, file(result.preset.src))
    expect(result.override).toMatchObject({ width: 280, format: 'jpeg', scale: 1 })
    expect(await sharp(file(result.override.src)).metadata()).toMatchObject({ width: 280, format: 'jpeg' })
    // a stylesheet's URL takes the preset too
    const css = (await readdir(join(dir, 'dist/assets'))).find(f => f.endsWith('.css'))!
    const [, cssUrl] = /url\(["']?([^"')]+)["']?\)/.exec(await readFile(join(dir, 'dist/assets', css), 'utf8'))!
    expect(await sharp(file(cssUrl)).metadata()).toMatchObject({ width: 560, format: 'webp' })

    // a URL import stays a URL: no placeholder in its chunk
    const urlChunk = await readFile(join(dir, 'dist/url.js'), 'utf8')
    expect(urlChunk).toMatch(/bird@2x-[\w-]+\.png/)
    expect(urlChunk).not.toContain('data:image')
    // one placeholder per module, however many variants: the same bird is in three modules (the
    // metadata, the variants, the preset's import), and so three times in the chunk
    const mainChunk = await readFile(join(dir, 'dist/main.js'), 'utf8')
    expect(result.preset.blurDataURL).toBe(result.meta.blurDataURL)
    expect(mainChunk.split(result.variants[0].blurDataURL).length - 1).toBe(3)

    const warm = await run(bin('vite'), ['build'], { cwd: dir, env: env() })
    expect(warm.stdout).toMatch(/\[unplugin-upscale\] 7 images: 7 cached, 0 enhanced/)
    expect(await read(dir)).toEqual(result)
  })

  it('a preset is checked at startup, its name in the error', { timeout: 60_000 }, async () => {
    const dir = await site('vite-bad-preset', {
      'package.json': JSON.stringify({ name: 'bad', private: true, type: 'module' }),
      'vite.config.js': `import Upscale from 'unplugin-upscale/vite'\nexport default { plugins: [Upscale({ presets: { 'src/photos/**': { scale: 3 } } })] }\n`,
      'index.html': '<p>hi</p>',
    })
    const failed = await run(bin('vite'), ['build'], { cwd: dir, env: env() }).catch((e: { stderr: string }) => e)
    expect((failed as { stderr: string }).stderr).toContain('option `presets["src/photos/**"]`: `scale` must be one of auto, 1, 2, 4 (got "3")')
  })
})

describe('Astro 5 with a metadata import', () => {
  it('the page gets the placeholder of the enhanced file', { timeout: 180_000 }, async () => {
    const [config] = readmeSnippets('### Astro')
    const dir = await site('astro-site', {
      'package.json': JSON.stringify({ name: 'astro-site', private: true, type: 'module' }),
      'astro.config.mjs': config,
      'src/pages/index.astro': `---
import hero from '../images/bird.png?scale=2&upscale=metadata'
---
<img src={hero.src} width={hero.width} height={hero.height} alt="" data-blur={hero.blurDataURL} data-color={hero.dominantColor} data-bw={hero.blurWidth} data-bh={hero.blurHeight}>
`,
    }, { 'src/images/bird.png': 'bird.png' })
    await run(bin('astro'), ['build'], { cwd: dir, env: env(), maxBuffer: 1 << 24 })
    const [img] = elements(await readFile(join(dir, 'dist/index.html'), 'utf8'), 'img')
    const meta = { blurDataURL: img['data-blur'], dominantColor: img['data-color'], blurWidth: Number(img['data-bw']), blurHeight: Number(img['data-bh']) }
    await checkPlaceholder(meta, join(dir, 'dist', img.src))
    expect([img.width, img.height]).toEqual(['576', '576'])
  })
})

describe('Eleventy 3 with html() (the README\'s one-line shortcode)', () => {
  it('writes a <picture> with srcset, sizes, width, height, lazy loading; cold and warm the same', { timeout: 180_000 }, async () => {
    const [config, template] = readmeSnippets('### Eleventy, and any Node script: the JS API')
    const dir = await site('eleventy-site', {
      'package.json': JSON.stringify({ name: 'eleventy-site', private: true, type: 'module' }),
      'eleventy.config.js': config,
      'src/index.liquid': `<h1>Birds</h1>\n${template}`,
    }, { 'src/images/bird.png': 'bird.png' })
    const build = async () => {
      const { stdout, stderr } = await run(bin('eleventy'), ['--input=src', '--output=_site'], { cwd: dir, env: env() })
      return { output: stdout + stderr, html: await readFile(join(dir, '_site/index.html'), 'utf8') }
    }
    const cold = await build()
    expect(cold.output).toMatch(/\[unplugin-upscale\] 1 image: 0 cached, 1 enhanced \(1 local\), 0 failed/)
    expect(elements(cold.html, 'picture')).toHaveLength(1)
    const [source] = elements(cold.html, 'source')
    const [img] = elements(cold.html, 'img')
    const sizes = '(min-width: 600px) 576px, 100vw'
    expect(source).toMatchObject({ type: 'image/webp', sizes })
    expect(img).toMatchObject({ alt: 'A bird, enhanced', width: '576', height: '576', sizes, loading: 'lazy', decoding: 'async' })
    // every srcset candidate is a file of the width it says, in the format its element says
    for (const [srcset, format] of [[source.srcset, 'webp'], [img.srcset, 'png']]) {
      const candidates = srcset.split(', ').map(c => c.split(' '))
      expect(candidates.map(c => c[1])).toEqual(['288w', '576w'])
      for (const [url, w] of candidates)
        expect(await sharp(join(dir, '_site', url)).metadata()).toMatchObject({ width: Number.parseInt(w), format })
    }
    expect(img.src).toBe(img.srcset.split(', ')[1].split(' ')[0])

    const warm = await build()
    expect(warm.output).toMatch(/\[unplugin-upscale\] 1 image: 1 cached, 0 enhanced/)
    expect(warm.html).toBe(cold.html)
  })

  it('html() escapes what it writes, and refuses an image without alt, saying why', { timeout: 60_000 }, async () => {
    const script = `import { html } from 'unplugin-upscale/api'
const result = { src: '/img/a.png?x=1&y="2"', width: 10, height: 20, format: 'png', blurDataURL: 'data:image/webp;base64,AA==', dominantColor: '#112233' }
const out = { markup: html(result, { alt: 'Tom & "Jerry" <3', class: 'hero', 'data-x': "it's", placeholder: 'color', fetchpriority: 'high' }) }
try { html(result, {}) } catch (e) { out.noAlt = e.message }
out.decorative = html(result, { alt: '', loading: 'eager' })
console.log(JSON.stringify(out))`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app })
    const out = JSON.parse(stdout)
    const [img] = elements(out.markup, 'img')
    expect(img).toEqual({
      'src': '/img/a.png?x=1&y="2"',
      'alt': 'Tom & "Jerry" <3',
      'width': '10',
      'height': '20',
      'loading': 'lazy',
      'decoding': 'async',
      'class': 'hero',
      'data-x': 'it\'s',
      'fetchpriority': 'high',
      'style': 'background-color:#112233',
    })
    expect(out.markup).not.toMatch(/"Jerry"|<3/)
    expect(out.noAlt).toMatch(/`alt` is missing.*screen readers.*alt: ''/)
    expect(elements(out.decorative, 'img')[0]).toMatchObject({ alt: '', loading: 'eager' })
  })
})

describe('remote sources (JS API and CLI) from a loopback server', () => {
  let origin: string
  let cms: ReturnType<typeof createServer>
  const seen: Array<{ path: string, status: number, ifNoneMatch?: string }> = []
  let api: ScaleServer
  beforeAll(async () => {
    const bird = await readFile(join(FIXTURES, 'bird.png'))
    const etag = `"${createHash('sha256').update(bird).digest('hex').slice(0, 16)}"`
    cms = createServer((req, res) => {
      const path = req.url!.split('?')[0]
      const record = { path, status: 200, ifNoneMatch: req.headers['if-none-match'] }
      seen.push(record)
      if (path === '/moved/bird.png') {
        record.status = 302
        res.writeHead(302, { location: '/private/bird.png' }).end()
        return
      }
      if (!path.endsWith('/bird.png')) {
        record.status = 404
        res.writeHead(404).end()
        return
      }
      if (req.headers['if-none-match'] === etag) {
        record.status = 304
        res.writeHead(304, { etag }).end()
        return
      }
      res.writeHead(200, { 'content-type': 'image/png', etag }).end(bird)
    })
    await new Promise<void>(r => cms.listen(0, '127.0.0.1', r))
    origin = `http://127.0.0.1:${(cms.address() as { port: number }).port}`
    api = await startScaleServer({ pollsToFinish: 1 })
  })
  afterAll(async () => {
    await new Promise(r => cms.close(r))
    await api.close()
  })

  /** `upscale(url, options)` in a Node process of the packed app; the result, or the error's message. */
  const upscaleIn = async (dir: string, url: string, options: object, more: NodeJS.ProcessEnv = {}) => {
    const script = `import { upscale } from 'unplugin-upscale/api'
try { console.log(JSON.stringify(await upscale(${JSON.stringify(url)}, ${JSON.stringify(options)}))) }
catch (e) { console.log(JSON.stringify({ error: e.message })) }`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: env(more) })
    // the summary line is printed after it, when the process ends
    return JSON.parse(stdout.split('\n').find(line => line.startsWith('{'))!)
  }
  const allow = () => [{ protocol: 'http', hostname: '127.0.0.1', pathname: '/media/**' }]

  it('fetches an allowed URL once, revalidates it with its ETag (304), and refuses the others', { timeout: 120_000 }, async () => {
    const dir = await site('remote-api', { 'package.json': '{"type":"module"}' })
    seen.length = 0
    const options = { scale: 2, outputDir: 'out', remotePatterns: allow() }
    const cold = await upscaleIn(dir, `${origin}/media/bird.png`, options)
    expect(cold).toMatchObject({ width: 576, height: 576, format: 'png', cached: false, source: `${origin}/media/bird.png` })
    expect(await sharp(cold.file).metadata()).toMatchObject({ width: 576, height: 576 })
    await checkPlaceholder(cold, cold.file)
    const warm = await upscaleIn(dir, `${origin}/media/bird.png`, options)
    expect(warm).toEqual({ ...cold, cached: true })
    expect(seen.map(s => s.status)).toEqual([200, 304])
    expect(seen[1].ifNoneMatch).toMatch(/^"[\da-f]{16}"$/)

    // not matched: another path, a redirect out of the pattern, no pattern at all
    seen.length = 0
    expect((await upscaleIn(dir, `${origin}/private/bird.png`, options)).error)
      .toMatch(/private\/bird\.png" matches none of `remotePatterns`.*hostname: '127\.0\.0\.1'/)
    const moved = await upscaleIn(dir, `${origin}/moved/bird.png`, { ...options, remotePatterns: [...allow(), { hostname: '127.0.0.1', pathname: '/moved/**' }] })
    expect(moved.error).toMatch(/private\/bird\.png" \(redirected from .*moved\/bird\.png"\) matches none of `remotePatterns`/)
    expect((await upscaleIn(dir, `${origin}/media/bird.png`, { scale: 2 })).error).toMatch(/matches none of `remotePatterns`/)
    // internal addresses behind a wildcard: an IP, and a name that resolves to loopback
    const anyHost = { ...options, remotePatterns: [{ hostname: '**' }] }
    expect((await upscaleIn(dir, `${origin}/media/bird.png`, anyHost)).error).toMatch(/is an internal address; write it out in `remotePatterns`/)
    const port = new URL(origin).port
    expect((await upscaleIn(dir, `http://localhost:${port}/media/bird.png`, anyHost)).error).toMatch(/localhost resolves to an internal address/)
    // nothing was fetched but the redirect itself
    expect(seen.map(s => s.path)).toEqual(['/moved/bird.png'])
  })

  it('sends the source to the API as image_url (no upload) with remoteByUrl: \'always\', uploads with \'never\'', { timeout: 120_000 }, async () => {
    const dir = await site('remote-byurl', { 'package.json': '{"type":"module"}' })
    const keys = { UPSCALE_API_TOKEN: api.token, UPSCALE_API_URL: api.url }
    const before = api.stats.submitted.length
    const byUrl = await upscaleIn(dir, `${origin}/media/bird.png`, { scale: 2, outputDir: 'out', remotePatterns: allow(), remoteByUrl: 'always', pollInterval: 10 }, keys)
    expect(byUrl).toMatchObject({ width: 576, height: 576, cached: false })
    const [sent] = api.stats.submitted.slice(before)
    expect(sent.image_url).toBe(`${origin}/media/bird.png`)
    expect(sent.image_file).toBeUndefined()

    const dir2 = await site('remote-upload', { 'package.json': '{"type":"module"}' })
    const uploaded = await upscaleIn(dir2, `${origin}/media/bird.png`, { scale: 2, outputDir: 'out', remotePatterns: allow(), remoteByUrl: 'never', pollInterval: 10 }, keys)
    expect(uploaded).toMatchObject({ width: 576, height: 576, cached: false })
    const [again] = api.stats.submitted.slice(before + 1)
    expect(again.image_url).toBeUndefined()
    expect(again.image_file).toBe((await readFile(join(FIXTURES, 'bird.png'))).length)
    expect(api.stats.submitted.length).toBe(before + 2)
  })

  it('the CLI takes a URL with --allow', { timeout: 60_000 }, async () => {
    const dir = await site('remote-cli', { 'package.json': '{"type":"module"}' })
    const url = `${origin}/media/bird.png`
    const { stdout } = await run(bin('unplugin-upscale'), ['enhance', url, '--allow', `${origin}/media/**`, '--scale', '2', '--json'], { cwd: dir, env: env() })
    const [entry] = JSON.parse(stdout)
    expect(entry).toMatchObject({ source: url, width: 576, height: 576 })
    expect(await sharp(entry.file).metadata()).toMatchObject({ width: 576 })
    const refused = await run(bin('unplugin-upscale'), ['enhance', url, '--scale', '2'], { cwd: dir, env: env() }).catch((e: { stderr: string, code: number }) => e)
    expect(refused).toMatchObject({ code: 1 })
    expect((refused as { stderr: string }).stderr).toMatch(/matches none of `remotePatterns`/)
  })
})
