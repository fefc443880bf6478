import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, ROOT, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'
import { fetchedImage, serveWith } from '../helpers/serve'

/**
 * Rsbuild 2 (Rspack 2) and Rsbuild 1 (Rspack 1) from the packed package, configured as the README
 * shows (`tools.rspack`). Both CLIs are installed into one app: Rsbuild 1 under an alias, each with
 * its own Rspack.
 */
const RSBUILD = ['@rsbuild/core@2.3.2', 'rsbuild1@npm:@rsbuild/core@1.7.6']
const [config] = readmeSnippets('### Rsbuild')
const CLIS = { 'Rsbuild 2': '@rsbuild/core', 'Rsbuild 1': 'rsbuild1' } as const

let app: string

beforeAll(async () => {
  const packed = await packedApp(RSBUILD, { shared: true })
  app = packed.app
  await cp(join(ROOT, 'fixtures/rsbuild'), app, { recursive: true })
  for (const name of ['head.jpg', 'bird.png'])
    await cp(join(FIXTURES, name), join(app, 'src', name))
  await writeFile(join(app, 'rsbuild.config.mjs'), config)
  return packed.dispose
}, 300_000)

/** Build with one Rsbuild; the page its entry renders (run in a bare DOM-less context) and the output. */
async function build(cli: keyof typeof CLIS, more: NodeJS.ProcessEnv = {}) {
  await rm(join(app, 'dist'), { recursive: true, force: true })
  const bin = join(app, 'node_modules', CLIS[cli], 'bin/rsbuild.js')
  const { stdout, stderr } = await run(process.execPath, [bin, 'build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '', ...more }, maxBuffer: 1 << 24 })
  const js = await readdir(join(app, 'dist/static/js'))
  const body: { innerHTML?: string } = {}
  runInNewContext(await readFile(join(app, 'dist/static/js', js.find(f => f.endsWith('.js'))!), 'utf8'), { document: { body } })
  return { output: stdout + stderr, html: body.innerHTML ?? '' }
}

const src = (html: string, id: string): string => new RegExp(`id="${id}" src="([^"]+)"`).exec(html)![1]

describe('Rsbuild with the Rspack entry in tools.rspack, from the packed package', () => {
  for (const cli of Object.keys(CLIS) as Array<keyof typeof CLIS>) {
    it(`${cli}: rsbuild build ships the enhanced files the page names`, async () => {
      await rm(join(app, '.upscale-cache'), { recursive: true, force: true })
      const { output, html } = await build(cli)
      expect(output).toMatch(/\[unplugin-upscale\] 2 images: 0 cached, 2 enhanced \(2 local\), 0 failed/)
      const plain = src(html, 'plain')
      expect(plain).toMatch(/^\/assets\/head@2x-[\w-]+\.jpg$/)
      expect(html).toContain('width="560"')
      expect(await sharp(join(app, 'dist', plain)).metadata()).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
      const bird = src(html, 'meta')
      expect(await sharp(join(app, 'dist', bird)).metadata()).toMatchObject({ width: 576, format: 'png' })
      expect(html).toContain('width="576"')
      // the original is not shipped
      expect((await readdir(join(app, 'dist'), { recursive: true })).filter(f => /head\.[\w]+\.jpg$|head\.jpg$/.test(f))).toEqual([])
    })
  }

  it('rsbuild dev serves the enhanced files its scripts name', async () => {
    const bin = join(app, 'node_modules/@rsbuild/core/bin/rsbuild.js')
    const env = { ...process.env, UPSCALE_API_TOKEN: '' }
    const server = await serveWith(process.execPath, port => [bin, 'dev', '--host', '127.0.0.1', '--port', String(port)], { cwd: app, env, ready: /built in/ })
    try {
      const html = await (await fetch(`${server.origin}/`)).text()
      const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map(m => m[1])
      const code = (await Promise.all(scripts.map(async src => (await fetch(new URL(src, server.origin))).text()))).join('\n')
      const urls = [...new Set(code.match(/assets\/(?:head|bird)@2x-[\w-]+\.(?:jpg|png)/g))]
      expect(urls.sort(), code.slice(0, 300)).toHaveLength(2)
      for (const url of urls)
        expect((await fetchedImage(server.origin, `/${url}`)).width).toBe(url.startsWith('assets/head') ? 560 : 576)
    }
    finally {
      await server.stop()
    }
  })

  it('the URL starts with output.assetPrefix', async () => {
    const prefixed = config.replace('tools:', 'output: { assetPrefix: \'/cdn/\' },\n  tools:')
    expect(prefixed).toContain('/cdn/')
    await writeFile(join(app, 'rsbuild.config.mjs'), prefixed)
    try {
      const { html } = await build('Rsbuild 2')
      const plain = src(html, 'plain')
      expect(plain).toMatch(/^\/cdn\/assets\/head@2x-[\w-]+\.jpg$/)
      expect((await sharp(join(app, 'dist', plain.slice('/cdn'.length))).metadata()).width).toBe(560)
    }
    finally {
      await writeFile(join(app, 'rsbuild.config.mjs'), config)
    }
  })
})
