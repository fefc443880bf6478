import type { ScaleServer } from '../server'
import { spawn } from 'node:child_process'
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, ROOT } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'
import { attr, serveWith } from '../helpers/serve'
import { startScaleServer } from '../server'

/**
 * Next.js from the packed package: an app-router app (a server page, a client component, an edge
 * page, next/image with a blur placeholder) built with Turbopack and with webpack, served by
 * `next start` and `next dev`, and exported. Next is installed once for the whole file.
 */
const NEXT = ['next@16.4.6', 'react@19.3.1', 'react-dom@19.3.1', 'typescript@5.9.3', '@types/react@19.3.3', '@types/node@20.19.43']
const [mjs, cjs, ts] = readmeSnippets('### Next.js')

let app: string
const env = (more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, NEXT_TELEMETRY_DISABLED: '1', UPSCALE_API_TOKEN: '', CI: '1', ...more })

beforeAll(async () => {
  const packed = await packedApp(NEXT, { shared: true })
  app = packed.app
  await cp(join(ROOT, 'fixtures/next'), app, { recursive: true })
  // as create-next-app makes it: no "type", so next.config.js is CommonJS
  await writeFile(join(app, 'package.json'), JSON.stringify({ ...JSON.parse(await readFile(join(app, 'package.json'), 'utf8')), type: undefined }))
  for (const name of ['head.jpg', 'bird.png'])
    await cp(join(FIXTURES, name), join(app, 'app', name))
  return packed.dispose
}, 300_000)

/** Run the app's `next` with arguments; resolves with its output, rejects with it on a failure. */
function next(args: string[], more: NodeJS.ProcessEnv = {}): Promise<{ output: string, code: number | null }> {
  const child = spawn(join(app, 'node_modules/.bin/next'), args, { cwd: app, env: env(more), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (c: Buffer): void => {
    output += c
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  return new Promise(resolve => child.on('close', code => resolve({ output, code })))
}

/** `next start` or `next dev` on a loopback port, until `stop()`; its output so far in `output()`. */
function serve(command: 'start' | 'dev', args: string[] = [], more: NodeJS.ProcessEnv = {}) {
  const next = join(app, 'node_modules/.bin/next')
  return serveWith(next, port => [command, '-H', '127.0.0.1', '-p', String(port), ...args], { cwd: app, env: env(more), ready: /Ready in|✓ Ready/ })
}

/** The `<img>` tags of a page, by id. */
function images(html: string): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const [tag] of html.matchAll(/<img\b[^>]*>/g))
    tags[attr(tag, 'id') ?? attr(tag, 'alt') ?? '?'] = tag
  return tags
}

/** Fetch an image URL from the server; its size and format, read back with sharp. */
async function fetched(origin: string, url: string) {
  const res = await fetch(new URL(url, origin))
  expect(res.status, url).toBe(200)
  const data = Buffer.from(await res.arrayBuffer())
  const meta = await sharp(data).metadata()
  return { width: meta.width, height: meta.height, format: meta.format, bytes: data.length }
}

const ENHANCED_HEAD = /^\/_next\/static\/media\/head(?:@2x|\.jpg)\.[\w-]+\.jpg$/
const ORIGINAL_HEAD = /^\/_next\/static\/media\/head\.[\w-]+\.jpg$/
const srcsetUrls = (srcset: string): string[] => srcset.split(',').map(s => s.trim().split(/\s+/)[0])

/**
 * Everything the page shows, checked against the enhanced sizes: the server page's plain `<img>`,
 * the responsive srcset, next/image (its optimizer URLs, made from the 560-wide enhanced file, and
 * the blur placeholder), the client component and the edge page.
 */
async function checkPages(origin: string, { edge = true, optimizer = true } = {}): Promise<string[]> {
  const html = await (await fetch(`${origin}/`)).text()
  const tags = images(html)
  const plain = attr(tags.plain, 'src')!
  // webpack names it head@2x.<hash>.jpg, Turbopack head.jpg.<hash>.jpg (the source's name, renamed to its format)
  expect(plain).toMatch(ENHANCED_HEAD)
  expect(await fetched(origin, plain)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
  expect(attr(tags.plain, 'width')).toBe('560')

  const set = srcsetUrls(attr(tags.set, 'srcset')!)
  expect(set).toHaveLength(2)
  expect(await fetched(origin, set[0])).toMatchObject({ width: 100, format: 'webp' })
  expect(await fetched(origin, set[1])).toMatchObject({ width: 200, format: 'webp' })

  const image = tags.next
  expect(attr(image, 'width')).toBe('560')
  expect(attr(image, 'style')).toMatch(/background-image/) // the blur placeholder
  const src = attr(image, 'src')!
  if (optimizer) {
    expect(decodeURIComponent(src)).toMatch(/^\/_next\/image\?url=\/_next\/static\/media\/head(?:@2x|\.jpg)\.[\w-]+\.jpg&w=\d+&q=75$/)
    // the optimizer never enlarges: at 1200 it serves the enhanced file's 560, at 384 a smaller copy of it
    expect((await fetched(origin, src)).width).toBe(560)
    expect((await fetched(origin, src.replace(/&w=\d+/, '&w=384'))).width).toBe(384)
  }
  else {
    expect(await fetched(origin, src)).toMatchObject({ width: 560 })
  }
  for (const url of srcsetUrls(attr(image, 'srcset') ?? ''))
    expect((await fetched(origin, url)).width).toBeGreaterThan(0)

  const client = attr(tags.client, 'src')!
  expect(client).toMatch(/^\/_next\/static\/media\/bird(?:@2x|\.png)\.[\w-]+\.png$/)
  expect(await fetched(origin, client)).toMatchObject({ width: 576, height: 576 })
  // the pages router: the same file, the same URL
  const old = images(await (await fetch(`${origin}/old`)).text()).old
  expect(attr(old, 'width')).toBe('560')
  expect(attr(old, 'src')).toBe(src)
  if (edge) {
    const edgeHtml = await (await fetch(`${origin}/edge`)).text()
    expect(attr(images(edgeHtml).edge, 'src')).toBe(plain)
  }
  return [plain, client, ...set]
}

async function config(source: string, name = 'next.config.mjs'): Promise<void> {
  for (const other of ['next.config.mjs', 'next.config.js', 'next.config.ts'])
    await rm(join(app, other), { force: true })
  await writeFile(join(app, name), source)
}

/** A config of the README's shape with these plugin options (and the app's own settings). */
const withOptions = (options: object, nextConfig = '{}'): string =>
  `import withUpscale from 'unplugin-upscale/next'\nexport default withUpscale(${nextConfig}, ${JSON.stringify(options)})\n`

async function fresh(): Promise<void> {
  await rm(join(app, '.next'), { recursive: true, force: true })
  await rm(join(app, 'out'), { recursive: true, force: true })
}

const clearCache = () => rm(join(app, '.upscale-cache'), { recursive: true, force: true })

describe('Next.js 16 with withUpscale, from the packed package', () => {
  for (const bundler of ['turbopack', 'webpack'] as const) {
    it(`next build (${bundler}) type-checks the app, and next start serves enhanced images`, { timeout: 300_000 }, async () => {
      await config(bundler === 'turbopack' ? mjs : ts, bundler === 'turbopack' ? 'next.config.mjs' : 'next.config.ts')
      await fresh()
      await clearCache()
      const built = await next(['build', ...(bundler === 'webpack' ? ['--webpack'] : [])])
      expect(built.code, built.output).toBe(0)
      expect(built.output).toContain(bundler === 'webpack' ? '(webpack)' : '(Turbopack)')
      expect(built.output).toMatch(/Finished TypeScript/)
      expect(built.output).toContain('images are enhanced with the built-in local engine')
      // one summary for the whole build: client, server and edge compilations count each image once
      const summaries = built.output.match(/\[unplugin-upscale\] \d+ images: .*/g)
      expect(summaries, built.output).toHaveLength(1)
      expect(summaries![0]).toMatch(/^\[unplugin-upscale\] 4 images: .*0 failed/)
      const media = await readdir(join(app, '.next/static/media'))
      expect(media.filter(f => /^head(?:@2x|\.jpg)\.[\w-]+\.jpg$/.test(f))).toHaveLength(1)
      expect(media.filter(f => ORIGINAL_HEAD.test(`/_next/static/media/${f}`))).toEqual([]) // the original is not shipped
      const server = await serve('start')
      try {
        await checkPages(server.origin)
      }
      finally {
        await server.stop()
      }
    })
  }

  it('output: \'export\' writes pages that point at the enhanced files', { timeout: 300_000 }, async () => {
    await config(withOptions({}, `{ output: 'export', basePath: '/site', images: { unoptimized: true } }`))
    await fresh()
    await rm(join(app, 'app/edge'), { recursive: true, force: true }) // an edge route cannot be exported
    try {
      const built = await next(['build'])
      expect(built.code, built.output).toBe(0)
      const html = await readFile(join(app, 'out/index.html'), 'utf8')
      const tags = images(html)
      for (const id of ['plain', 'next', 'client']) {
        const src = attr(tags[id], 'src')!
        expect(src).toMatch(/^\/site\/_next\/static\/media\//)
        const meta = await sharp(join(app, 'out', src.slice('/site'.length))).metadata()
        expect(meta.width, id).toBe(id === 'client' ? 576 : 560)
      }
    }
    finally {
      await cp(join(ROOT, 'fixtures/next/app/edge'), join(app, 'app/edge'), { recursive: true })
    }
  })

  it('the plain webpack entry inside Next fails the build, naming unplugin-upscale/next', { timeout: 300_000 }, async () => {
    await config(`import Upscale from 'unplugin-upscale/webpack'\nexport default { webpack(config) { config.plugins.push(Upscale()); return config } }\n`)
    await fresh()
    const built = await next(['build', '--webpack'])
    expect(built.code).not.toBe(0)
    expect(built.output).toContain('wrap next.config with withUpscale from \'unplugin-upscale/next\'')
  })

  describe('with the API (the loopback contract server)', () => {
    let api: ScaleServer
    beforeAll(async () => {
      api = await startScaleServer()
      return () => api.close()
    })
    const apiEnv = () => ({ UPSCALE_API_URL: api.url, UPSCALE_API_TOKEN: api.token })

    it('one paid task per image for a whole build, none for a warm one (webpack: client, server and edge)', { timeout: 300_000 }, async () => {
      await config(withOptions({ pollInterval: 5 }))
      await clearCache()
      await fresh()
      const before = api.stats.submits
      const cold = await next(['build', '--webpack'], apiEnv())
      expect(cold.code, cold.output).toBe(0)
      expect(api.stats.submits - before).toBe(3) // head@2x, bird@4x (its variants), bird@2x
      expect(cold.output).not.toContain(api.token)
      expect(cold.output).toMatch(/4 images: .*3 billable tasks/)
      await fresh()
      const warm = await next(['build'], apiEnv())
      expect(warm.code, warm.output).toBe(0)
      expect(api.stats.submits - before).toBe(3)
      expect(warm.output).toMatch(/4 images: 4 cached/)
    })

    it('maxTasks fails the build naming the option; dryRun and onError: \'original\' give the original\'s URL', { timeout: 400_000 }, async () => {
      await clearCache()
      await fresh()
      await config(withOptions({ maxTasks: 0 }))
      const before = api.stats.submits
      const held = await next(['build'], apiEnv())
      expect(held.code).not.toBe(0)
      expect(held.output).toMatch(/maxTasks/)
      expect(held.output).toMatch(/head\.jpg\?scale=2&upscale/)
      expect(api.stats.submits).toBe(before)

      await fresh()
      await config(withOptions({ dryRun: true }))
      const dry = await next(['build'], apiEnv())
      expect(dry.code, dry.output).toBe(0)
      expect(dry.output).toMatch(/Dry run: .*head\.jpg\?scale=2&upscale/)
      expect(api.stats.submits).toBe(before)
      const server = await serve('start')
      try {
        const tags = images(await (await fetch(`${server.origin}/`)).text())
        const src = attr(tags.plain, 'src')!
        expect(src).toMatch(ORIGINAL_HEAD) // a string, the original's own URL
        expect(await fetched(server.origin, src)).toMatchObject({ width: 280 })
        expect(attr(tags.plain, 'width')).toBe('280')
      }
      finally {
        await server.stop()
      }

      await fresh()
      await config(withOptions({ onError: 'original', retries: 0 }))
      const broken = await startScaleServer()
      broken.inject({ status: 500, times: 1000 })
      const failed = await next(['build', '--webpack'], { UPSCALE_API_URL: broken.url, UPSCALE_API_TOKEN: broken.token })
      await broken.close()
      expect(failed.code, failed.output).toBe(0)
      expect(failed.output).toMatch(/emitted unenhanced \(onError: 'original'\)/)
      const html = await readFile(join(app, '.next/server/app/index.html'), 'utf8')
      expect(attr(images(html).plain, 'src')).toMatch(ORIGINAL_HEAD)
    })

    for (const bundler of ['turbopack', 'webpack'] as const) {
      it(`next dev (${bundler}): a cold cache makes the first request wait for enhanced images, a warm one pays nothing`, { timeout: 300_000 }, async () => {
        await config(bundler === 'webpack' ? cjs : mjs, bundler === 'webpack' ? 'next.config.js' : 'next.config.mjs')
        await clearCache()
        const before = api.stats.submits
        for (const round of ['cold', 'warm']) {
          await fresh()
          const dev = await serve('dev', bundler === 'webpack' ? ['--webpack'] : [], { ...apiEnv(), UPSCALE_API_URL: api.url })
          try {
            await checkPages(dev.origin, { optimizer: true })
          }
          finally {
            await dev.stop()
          }
          expect(api.stats.submits - before, `${round}\n${dev.output()}`).toBe(3)
        }
      })
    }
  })
})
