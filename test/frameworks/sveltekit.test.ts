import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'
import { attr, fetchedImage, imgTags, serveWith } from '../helpers/serve'

/**
 * SvelteKit 3 (Node 22) from the packed package, exactly as the README shows it: vite.config.js
 * with @sveltejs/enhanced-img, the page, and src/app.d.ts. Built, served by `vite preview` and
 * `vite dev`, and type-checked by tsc with SvelteKit's generated tsconfig.
 */
const SVELTEKIT = ['@sveltejs/kit@3.2.0', '@sveltejs/vite-plugin-svelte@7', 'svelte@5', 'vite@8', 'typescript@6', '@sveltejs/enhanced-img@1.0.0']
const [viteConfig, page, appTypes] = readmeSnippets('### SvelteKit')

let app: string
const env = { ...process.env, UPSCALE_API_TOKEN: '', CI: '1' }
const vite = (): string => join(app, 'node_modules/vite/bin/vite.js')

beforeAll(async () => {
  const packed = await packedApp(SVELTEKIT, { shared: true })
  app = packed.app
  await writeFile(join(app, 'vite.config.js'), viteConfig)
  await cp(join(FIXTURES, 'head.jpg'), join(app, 'src/routes/hero.jpg'))
  await writeFile(join(app, 'src/routes/+page.svelte'), page)
  await writeFile(join(app, 'src/app.d.ts'), appTypes)
  await writeFile(join(app, 'src/app.html'), '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8" />%sveltekit.head%</head>\n<body><div>%sveltekit.body%</div></body>\n</html>\n')
  // what SvelteKit 3 asks for (its generated config and types live in node_modules/$app)
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ extends: '$app/tsconfig', include: ['src', 'test', '*'], exclude: ['src/service-worker'] }))
  return packed.dispose
}, 300_000)

/** The page's images: the plain `<img>` (the metadata import) and the one inside enhanced-img's `<picture>`. */
async function checkPage(origin: string): Promise<void> {
  const html = await (await fetch(`${origin}/`)).text()
  const [plain, enhanced] = imgTags(html)
  expect(attr(plain, 'width'), html).toBe('560')
  expect(await fetchedImage(origin, attr(plain, 'src')!)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
  // enhanced-img's <picture>: sizes from the enhanced file, 1x and 2x of each format
  expect(attr(enhanced, 'width'), html).toBe('560')
  expect(await fetchedImage(origin, attr(enhanced, 'src')!)).toMatchObject({ width: 560 })
  const sources = [...html.matchAll(/<source srcset="([^"]+)" type="image\/(\w+)"/g)]
  expect(sources.map(s => s[2]).sort()).toEqual(['avif', 'jpeg', 'webp'])
  for (const [, srcset, format] of sources) {
    const [one, two] = srcset.split(', ').map(s => s.split(' ')[0])
    expect(await fetchedImage(origin, one)).toMatchObject({ width: 280, format: format === 'jpeg' ? 'jpeg' : format === 'avif' ? 'heif' : format })
    expect((await fetchedImage(origin, two)).width).toBe(560)
  }
}

describe('SvelteKit 3 with the Vite plugin and enhanced-img, from the packed package', () => {
  it('vite build has no warning of ours, and vite preview serves the enhanced images', async () => {
    const { stdout, stderr } = await run(process.execPath, [vite(), 'build'], { cwd: app, env, maxBuffer: 1 << 24 })
    const output = stdout + stderr
    expect(output).not.toMatch(/transform_index_html_unsupported|tsconfig_extends_missing|a11y_/)
    expect(output).toMatch(/\[unplugin-upscale\] \d+ images: .*enhanced \(\d+ local\), 0 failed/)
    const server = await serveWith(process.execPath, port => [vite(), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, env, ready: /Local/ })
    try {
      await checkPage(server.origin)
    }
    finally {
      await server.stop()
    }
  })

  it('vite dev serves the enhanced images (warm cache)', async () => {
    const server = await serveWith(process.execPath, port => [vite(), 'dev', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, env, ready: /Local/ })
    try {
      await checkPage(server.origin)
      expect(server.output()).not.toMatch(/transform_index_html_unsupported/)
    }
    finally {
      await server.stop()
    }
  })

  it('tsc type-checks ?upscale imports through src/app.d.ts and SvelteKit\'s tsconfig', async () => {
    const tsc = join(app, 'node_modules/typescript/bin/tsc')
    await writeFile(join(app, 'src/hero.ts'), `import hero from './routes/hero.jpg?scale=2&upscale=metadata'\nimport url from './routes/hero.jpg?scale=2&upscale'\nexport const width: number = hero.width\nexport const src: string = url\n`)
    await run(process.execPath, [tsc, '--noEmit', '-p', '.'], { cwd: app, env })
    // and the types are this plugin's: a metadata object is not a string
    await writeFile(join(app, 'src/hero.ts'), `import hero from './routes/hero.jpg?scale=2&upscale=metadata'\nexport const src: string = hero\n`)
    const failed = await run(process.execPath, [tsc, '--noEmit', '-p', '.'], { cwd: app, env }).then(() => '', (e: { stdout: string }) => e.stdout)
    expect(failed).toMatch(/src\/hero\.ts.*error TS2322/)
    await rm(join(app, 'src/hero.ts'))
    expect(await readFile(join(app, 'src/app.d.ts'), 'utf8')).toContain('unplugin-upscale/client')
  })
})
