import type { ChildProcess } from 'node:child_process'
import { execFile, spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FIXTURES } from './helpers/project'
import { readmeSnippets } from './helpers/readme'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..')
const ASTRO = join(ROOT, 'node_modules/astro/astro.js')

/** An Astro site made of the README's snippets; `astro` and this package are links to the repository's. */
async function site(config?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'upscale-astro-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const [readmeConfig, page] = readmeSnippets('### Astro')
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(ROOT, join(dir, 'node_modules/unplugin-upscale'))
  // as npm lays them out for a user: astro, and sharp hoisted (Astro's image service needs it)
  for (const name of ['astro', 'sharp'])
    await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name))
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }))
  await writeFile(join(dir, 'astro.config.mjs'), config ?? readmeConfig)
  await mkdir(join(dir, 'src/pages'), { recursive: true })
  await mkdir(join(dir, 'src/images'), { recursive: true })
  await cp(join(FIXTURES, 'bird.png'), join(dir, 'src/images/bird.png'))
  await writeFile(join(dir, 'src/pages/index.astro'), page)
  return dir
}

const env = (more: NodeJS.ProcessEnv = {}) => ({ ...process.env, UPSCALE_API_TOKEN: '', ASTRO_TELEMETRY_DISABLED: '1', ...more })

/** `astro build`; returns the page's <img> and the file its src names, read back with sharp. */
async function build(dir: string, more: NodeJS.ProcessEnv = {}) {
  const { stdout, stderr } = await run(process.execPath, [ASTRO, 'build'], { cwd: dir, env: env(more), maxBuffer: 1 << 24 })
  const html = await readFile(join(dir, 'dist/index.html'), 'utf8')
  const img = /<img[^>]*>/.exec(html)![0]
  const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(img)?.[1]
  const file = join(dir, 'dist', attr('src')!)
  return { output: stdout + stderr, img, width: Number(attr('width')), height: Number(attr('height')), meta: await sharp(file).metadata() }
}

describe('Astro 5 (the README\'s config and page)', () => {
  it('`astro build`: <Image> optimises the enhanced file, at its size, cold and warm', { timeout: 180_000 }, async () => {
    const dir = await site()
    const cold = await build(dir)
    // Astro re-encodes the enhanced image (to WebP by default) at the size the metadata gives
    expect([cold.width, cold.height]).toEqual([576, 576])
    expect(cold.meta).toMatchObject({ width: 576, height: 576 })
    expect(cold.output).toMatch(/1 image: 0 cached, 1 enhanced \(1 local\)/)
    const warm = await build(dir)
    expect([warm.meta.width, warm.width]).toEqual([576, 576])
    expect(warm.output).toMatch(/1 image: 1 cached, 0 enhanced/)
  })

  it.each<[string, NodeJS.ProcessEnv, string | undefined]>([
    // a token, so that images are billable and held back; the API URL answers nothing
    ['a dry run (UPSCALE_DRY_RUN=1)', { UPSCALE_DRY_RUN: '1', UPSCALE_API_TOKEN: 'never-sent', UPSCALE_API_URL: 'http://127.0.0.1:9' }, undefined],
    ['onError: \'original\'', {}, `import { defineConfig } from 'astro/config'
import Upscale from 'unplugin-upscale/vite'
export default defineConfig({ vite: { plugins: [Upscale({ engine: { id: 'broken', version: '1', enhance: async () => { throw new Error('engine down') } }, onError: 'original' })] } })
`],
  ])('`astro build` in %s emits the original, with a string src (was: ERR_INVALID_ARG_TYPE)', { timeout: 180_000 }, async (_, more, config) => {
    const dir = await site(config)
    const r = await build(dir, { ...more, UPSCALE_DRY_RUN: more.UPSCALE_DRY_RUN ?? '' })
    expect([r.width, r.height]).toEqual([288, 288])
    expect(r.meta).toMatchObject({ width: 288, height: 288 })
  })

  it('`astro dev` on a cold cache: the original with its real size first, then the enhanced image (was: [object Object])', { timeout: 180_000 }, async () => {
    const dir = await site()
    const port = await freePort()
    const child: ChildProcess = spawn(process.execPath, [ASTRO, 'dev', '--port', String(port), '--host', '127.0.0.1'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    const collect = (c: Buffer): void => {
      log += c
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    onTestFinished(() => {
      child.kill('SIGTERM')
    })
    const base = `http://127.0.0.1:${port}`
    await waitFor(async () => (await fetch(base).catch(() => undefined))?.ok === true, 60_000, () => log)

    const first = await page(base)
    expect(first.img).not.toContain('[object Object]')
    const image = await fetch(`${base}${first.src}`)
    expect(image.status, `${first.src}\n${log}`).toBe(200)
    const firstMeta = await sharp(Buffer.from(await image.arrayBuffer())).metadata()
    // the original (288) at once, or already the enhanced one (576) if the engine was quicker
    expect([288, 576]).toContain(first.width)
    expect(firstMeta.width).toBe(first.width)

    // the background enhancement lands in the cache; the page then shows the enhanced image
    await waitFor(async () => (await readdir(join(dir, '.upscale-cache')).catch(() => [])).length > 0, 30_000, () => log)
    let later = first
    await waitFor(async () => {
      later = await page(base)
      return later.width === 576
    }, 30_000, () => log)
    const enhanced = await fetch(`${base}${later.src}`)
    expect(enhanced.status).toBe(200)
    expect((await sharp(Buffer.from(await enhanced.arrayBuffer())).metadata()).width).toBe(576)
  })
})

async function page(base: string) {
  const html = await (await fetch(base)).text()
  const img = /<img[^>]*>/.exec(html)?.[0] ?? html.slice(0, 400)
  const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(img)?.[1]
  return { img, src: (attr('src') ?? '').replaceAll('&#38;', '&').replaceAll('&amp;', '&'), width: Number(attr('width')) }
}

async function waitFor(check: () => Promise<boolean>, ms: number, log: () => string): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check().catch(() => false))
      return
    await new Promise(r => setTimeout(r, 250))
  }
  throw new Error(`timed out after ${ms} ms\n${log()}`)
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => res(port))
    })
  })
}
