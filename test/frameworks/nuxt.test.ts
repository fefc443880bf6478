import { existsSync } from 'node:fs'
import { cp, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'
import { checkHeroPage, serveWith } from '../helpers/serve'

/**
 * Nuxt 4 (Node 22) from the packed package, as the README shows it: nuxt.config.ts and the page.
 * Built, served by the built server and by `nuxi dev`, and type-checked with the tsconfig Nuxt
 * generates. Vite is pinned to 8.3: Nuxt 4.6's server build fails on Vite 8.4 without this plugin.
 */
const NUXT = ['nuxt@4.6.4', 'vue@3', 'vite@8.3.8', 'typescript@5.9.3']
const [nuxtConfig, page] = readmeSnippets('### Nuxt')

let app: string
// as a terminal has it: without vitest's NODE_ENV=test and VITEST*, which Nuxt reads as a test run
const outside = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV' && !k.startsWith('VITEST')))
const env = { ...outside, UPSCALE_API_TOKEN: '', CI: '1', NUXT_TELEMETRY_DISABLED: '1' }
const nuxi = (): string => join(app, 'node_modules/.bin/nuxi')

beforeAll(async () => {
  const packed = await packedApp(NUXT, { shared: true })
  app = packed.app
  await mkdir(join(app, 'app/pages'), { recursive: true })
  await mkdir(join(app, 'app/assets'), { recursive: true })
  await writeFile(join(app, 'nuxt.config.ts'), nuxtConfig)
  await writeFile(join(app, 'app/app.vue'), '<template>\n  <NuxtPage />\n</template>\n')
  await writeFile(join(app, 'app/pages/index.vue'), page)
  await cp(join(FIXTURES, 'head.jpg'), join(app, 'app/assets/hero.jpg'))
  return packed.dispose
}, 300_000)

/** The page: in a build, the enhanced file under its asset name; in dev, the cached file under /@upscale/. */
const checkPage = (origin: string, dev = false): Promise<void> => checkHeroPage(origin, dev ? /^\/_nuxt\/@upscale\/\S+\.jpg$/ : /^\/_nuxt\/hero_2x\.[\w-]+\.jpg$/)

describe('Nuxt 4 with the Vite plugin in vite.plugins, from the packed package', () => {
  it('nuxi build keeps the cache at the project root, and the built server serves the enhanced images', async () => {
    const { stdout, stderr } = await run(nuxi(), ['build'], { cwd: app, env, maxBuffer: 1 << 24 })
    const summaries = (stdout + stderr).match(/\[unplugin-upscale\] \d+ images?: .*/g)
    expect(summaries, stdout + stderr).toHaveLength(2)
    expect(summaries![0]).toMatch(/^\[unplugin-upscale\] 2 images: 0 cached, 2 enhanced \(2 local\), 0 failed/)
    // Vite's root is app/; the cache is beside package.json all the same
    expect(existsSync(join(app, '.upscale-cache'))).toBe(true)
    expect(existsSync(join(app, 'app/.upscale-cache'))).toBe(false)
    expect(existsSync(join(app, 'app/node_modules'))).toBe(false)
    const server = await serveWith(process.execPath, () => ['.output/server/index.mjs'], { cwd: app, env: port => ({ ...env, HOST: '127.0.0.1', PORT: String(port) }), ready: /Listening on/ })
    try {
      await checkPage(server.origin)
    }
    finally {
      await server.stop()
    }
  })

  it('nuxi dev serves the enhanced images (warm cache)', async () => {
    const server = await serveWith(nuxi(), port => ['dev', '--host', '127.0.0.1', '--port', String(port)], { cwd: app, env, ready: /Ready in/ })
    try {
      // the first request waits for Nuxt's first compile
      const deadline = Date.now() + 60_000
      while ((await fetch(`${server.origin}/`).then(r => r.status, () => 0)) !== 200 && Date.now() < deadline)
        await new Promise(r => setTimeout(r, 500))
      await checkPage(server.origin, true)
    }
    finally {
      await server.stop()
    }
  })

  it('tsc type-checks ?upscale imports with the tsconfig Nuxt generates from typescript.tsConfig', async () => {
    const tsc = join(app, 'node_modules/typescript/bin/tsc')
    await run(nuxi(), ['prepare'], { cwd: app, env })
    await mkdir(join(app, 'app/utils'), { recursive: true })
    await writeFile(join(app, 'app/utils/hero.ts'), `import hero from '~/assets/hero.jpg?scale=2&upscale=metadata'\nexport const heroWidth: number = hero.width\n`)
    await run(process.execPath, [tsc, '--noEmit', '-p', '.nuxt/tsconfig.app.json'], { cwd: app, env })
    await writeFile(join(app, 'app/utils/hero.ts'), `import hero from '~/assets/hero.jpg?scale=2&upscale=metadata'\nexport const heroSrc: string = hero\n`)
    const failed = await run(process.execPath, [tsc, '--noEmit', '-p', '.nuxt/tsconfig.app.json'], { cwd: app, env }).then(() => '', (e: { stdout: string }) => e.stdout)
    await rm(join(app, 'app/utils'), { recursive: true })
    expect(failed).toMatch(/app\/utils\/hero\.ts.*error TS2322/)
  })
})
