/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { build, preview } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import Upscale from '../../src/vite'

const ROOT = resolve(import.meta.dirname, '../..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(ROOT, 'test-artifacts')

/** Natural sizes the playground's enhanced images must have: source × factor. */
const EXPECTED: Record<string, [number, number]> = {
  'bird.png?upscale': [1152, 1152],
  'butterfly.png?scale=2&upscale': [512, 512],
  'head.jpg?scale=4&type=face&as=metadata&upscale': [1120, 1120],
  'woman.png?scale=4&format=webp&quality=85&upscale': [912, 1376],
  'monarch.jpg?upscale': [1536, 1024],
}

describe('the playground in a real browser', () => {
  it('loads every enhanced image at its expected natural size', { timeout: 120_000 }, async () => {
    expect(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`).toBe(true)
    const dir = await mkdtemp(join(tmpdir(), 'upscale-playground-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const config = {
      root: join(ROOT, 'playground'),
      configFile: false as const,
      logLevel: 'silent' as const,
      plugins: [Upscale({ provider: 'local', cacheDir: join(dir, '.cache') })],
      build: { outDir: join(dir, 'dist'), emptyOutDir: true },
      preview: { host: '127.0.0.1', port: 0 },
    }
    await build(config)
    const server = await preview(config)
    onTestFinished(() => server.close())
    const { port } = server.httpServer.address() as AddressInfo

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    onTestFinished(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    const failed: string[] = []
    page.on('requestfailed', r => failed.push(r.url()))
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.waitForFunction(() => {
      const images = [...document.images]
      return images.length === 10 && images.every(i => i.complete && i.naturalWidth > 0)
    })
    // the captions are filled in once sizes are read
    await page.waitForFunction(() => [...document.querySelectorAll('figcaption span')].every(s => s.textContent !== '…'))

    const seen = await page.$$eval('section.pair', sections => sections.map(s => ({
      query: s.querySelector('h2')!.textContent!,
      enhanced: [(s.querySelectorAll('img')[1] as HTMLImageElement).naturalWidth, (s.querySelectorAll('img')[1] as HTMLImageElement).naturalHeight],
      original: (s.querySelectorAll('img')[0] as HTMLImageElement).naturalWidth,
      caption: s.querySelectorAll('figcaption span')[1].textContent,
    })))
    expect(Object.fromEntries(seen.map(s => [s.query, s.enhanced]))).toEqual(EXPECTED)
    for (const s of seen)
      expect(s.caption).toContain(`${s.enhanced[0]}×${s.enhanced[1]}`)
    expect(failed).toEqual([])

    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true })
  })
})
