import { existsSync } from 'node:fs'
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, ROOT, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'

/**
 * A Docusaurus 3 site with the classic preset, from the packed package, configured as the README
 * shows: built with webpack, and with Rspack (`future: { v4: true }` and @docusaurus/faster),
 * each cold and then warm (Docusaurus's own persistent cache restores the page modules).
 */
const DOCUSAURUS = ['@docusaurus/core@3.10.2', '@docusaurus/preset-classic@3.10.2', '@docusaurus/faster@3.10.2', 'react@19.3.1', 'react-dom@19.3.1']
const [config, page] = readmeSnippets('### Docusaurus')
const SITE = `title: 'Upscaled',
  url: 'https://example.com',
  baseUrl: '/',
  onBrokenLinks: 'throw',
  presets: [['classic', { docs: false, blog: false }]],`

let app: string

beforeAll(async () => {
  const packed = await packedApp(DOCUSAURUS, { shared: true })
  app = packed.app
  // as create-docusaurus makes it: no "type" (webpack would parse the generated registry as strict ESM)
  await writeFile(join(app, 'package.json'), JSON.stringify({ ...JSON.parse(await readFile(join(app, 'package.json'), 'utf8')), type: undefined }))
  await cp(join(ROOT, 'fixtures/docusaurus'), app, { recursive: true })
  for (const name of ['head.jpg', 'bird.png'])
    await cp(join(FIXTURES, name), join(app, 'src/pages', name))
  // the README's page, as it is, at /readme
  await writeFile(join(app, 'src/pages/readme.js'), page)
  await cp(join(FIXTURES, 'barbara.jpg'), join(app, 'src/pages/hero.jpg'))
  return packed.dispose
}, 300_000)

/** The README's config with the site's own settings (and `future` for Rspack) where it says so. */
function siteConfig(rspack: boolean): string {
  const own = config.replace(/^ *\/\/ …the site's.*$/m, `  ${SITE}${rspack ? '\n  future: { v4: true },' : ''}`)
  expect(own).toContain('unplugin-upscale/docusaurus')
  expect(own).toContain(`baseUrl: '/'`)
  return own
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="?([^" >]*(?: \\d+w,? ?[^" >]*)*)"?`).exec(tag)?.[1]

/** `docusaurus build`; the built home page's images, read back from build/. */
async function build() {
  await rm(join(app, 'build'), { recursive: true, force: true })
  const { stdout, stderr } = await run(join(app, 'node_modules/.bin/docusaurus'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '', CI: '1' }, maxBuffer: 1 << 24 })
  const output = stdout + stderr
  const html = await readFile(join(app, 'build/index.html'), 'utf8')
  const tags = Object.fromEntries([...html.matchAll(/<img\b[^>]*>/g)].map(([tag]) => [/id="?(\w+)/.exec(tag)![1], tag]))
  const file = async (url: string) => {
    expect(url).toMatch(/^\/assets\//)
    return sharp(join(app, 'build', url)).metadata()
  }
  const readme = await readFile(join(app, 'build/readme/index.html'), 'utf8')
  return { output, tags, file, readme }
}

async function check(rspack: boolean, warm: boolean): Promise<{ summaries: string[], output: string }> {
  const { output, tags, file, readme } = await build()
  expect(output).toContain('[SUCCESS] Generated static files')
  // which bundler built it: Docusaurus keeps its persistent cache in node_modules/.cache/<bundler>
  // (the test clears that folder before each mode)
  expect(existsSync(join(app, 'node_modules/.cache', rspack ? 'rspack' : 'webpack')), output).toBe(true)
  expect(existsSync(join(app, 'node_modules/.cache', rspack ? 'webpack' : 'rspack'))).toBe(false)
  const summaries = output.match(/\[unplugin-upscale\] \d+ images?: .*/g) ?? []
  // client and server compilations: one summary, each image once (the fixture's 3 and the README's hero; none
  // when every module came from the bundler's cache)
  expect(summaries.length, output).toBeLessThanOrEqual(1)
  if (!warm)
    expect(summaries[0], output).toMatch(/^\[unplugin-upscale\] 4 images: 0 cached, 4 enhanced \(4 local\), 0 failed/)
  const plain = attr(tags.plain, 'src')!
  expect(plain).toMatch(/^\/assets\/head@2x-[\w-]+\.jpg$/)
  expect(await file(plain)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
  expect(attr(tags.meta, 'width')).toBe('576')
  expect(await file(attr(tags.meta, 'src')!)).toMatchObject({ width: 576, format: 'png' })
  const set = /srcset="([^"]+)"/.exec(tags.set)![1].split(', ').map(s => s.split(' '))
  expect(set.map(([, w]) => w)).toEqual(['100w', '200w'])
  expect(await file(set[0][0])).toMatchObject({ width: 100, format: 'webp' })
  expect(await file(set[1][0])).toMatchObject({ width: 200, format: 'webp' })
  // the README's page: its <img> is the enhanced hero, with its size
  const [hero] = readme.match(/<img\b[^>]*>/g) ?? ['']
  expect(attr(hero, 'width'), readme).toBe('1440')
  expect(await file(attr(hero, 'src')!)).toMatchObject({ width: 1440, height: 1152, format: 'jpeg' })
  // the sources themselves are not shipped
  expect((await readdir(join(app, 'build'), { recursive: true })).filter(f => /(?:^|\/)(?:head|bird|hero)[.-][\w]+\.(?:jpg|png)$/.test(f))).toEqual([])
  return { summaries, output }
}

describe('Docusaurus 3 with unplugin-upscale/docusaurus, from the packed package', () => {
  for (const rspack of [false, true]) {
    it(`docusaurus build with ${rspack ? 'Rspack (future.v4, @docusaurus/faster)' : 'webpack'}, cold and warm`, async () => {
      await writeFile(join(app, 'docusaurus.config.js'), siteConfig(rspack))
      await rm(join(app, '.upscale-cache'), { recursive: true, force: true })
      await rm(join(app, 'node_modules/.cache'), { recursive: true, force: true })
      await check(rspack, false)
      // warm: with Docusaurus's persistent bundler cache and this plugin's cache, the files are there again
      const warm = await check(rspack, true)
      expect(warm.summaries[0] ?? '', warm.output).not.toMatch(/[1-9] enhanced/)
    })
  }
})
