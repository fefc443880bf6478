import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { build } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import Upscale from '../src/vite'
import { api, server } from './helpers/api'
import { captureOutput, childBuild, emitted, listFiles, tempProject, viteBuild } from './helpers/project'

const THREE = `
  import a from './bird.png?scale=2&upscale'
  import b from './woman.png?scale=2&upscale'
  import c from './head.jpg?scale=2&upscale'
  globalThis.result = { a, b, c }
`

describe('cost guards', () => {
  it('maxTasks fails the build listing every image beyond it, and keeps what was paid for', async () => {
    const s = await server()
    const dir = await tempProject()
    const { error } = await captureOutput(() => viteBuild(dir, THREE, api(s, { maxTasks: 1, concurrency: 1 })))
    expect(error?.message).toMatch(/maxTasks is 1, and this build needs more: 2 images not in the cache would have been sent beyond it:\n {2}- src\/\w+\.\w+\?scale=2&upscale \(imported by src\/main\.js\)\n {2}- src\/\w+\.\w+\?scale=2&upscale \(imported by src\/main\.js\)/)
    expect(s.stats.submits).toBe(1)
    // the paid result is in the cache: a build with budget for the rest pays only for those
    await viteBuild(dir, THREE, api(s, { maxTasks: 2 }))
    expect(s.stats.submits).toBe(3)
  })

  it('a dry run sends nothing, lists every billable miss with its importer, and emits the originals', async () => {
    const s = await server()
    const dir = await tempProject()
    await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, api(s))
    const { output, result } = await captureOutput(() => viteBuild(dir, THREE, { ...api(s, { dryRun: true }), outDir: 'dry' }))
    expect(s.stats.submits).toBe(1)
    expect(output).toMatch(/Dry run: 2 images not in the cache would be sent to the API \(billable\), and were emitted unenhanced:/)
    expect(output).toContain('src/woman.png?scale=2&upscale (imported by src/main.js)')
    expect(output).toContain('src/head.jpg?scale=2&upscale (imported by src/main.js)')
    expect(output).not.toContain('src/bird.png')
    expect(await emitted(join(dir, 'dry'), result!.result.a)).toMatchObject({ width: 576 }) // cached: enhanced
    expect(await emitted(join(dir, 'dry'), result!.result.b)).toMatchObject({ width: 228, height: 344 }) // original
  })

  it('UPSCALE_DRY_RUN=1 turns the dry run on', async () => {
    const s = await server()
    const dir = await tempProject()
    process.env.UPSCALE_DRY_RUN = '1'
    onTestFinished(() => {
      delete process.env.UPSCALE_DRY_RUN
    })
    const { output } = await captureOutput(() => viteBuild(dir, THREE, api(s)))
    expect(output).toMatch(/Dry run: 3 images/)
    expect(s.stats.requests).toBe(0)
  })
})

describe('provider selection', () => {
  it('auto uses the API when a token is set, without the local-engine notice', async () => {
    const s = await server()
    const dir = await tempProject()
    const { output } = await captureOutput(() => viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, api(s, { provider: 'auto' })))
    expect(s.stats.submits).toBe(1)
    expect(output).not.toContain('local engine')
  })
})

describe('the client and SSR builds of one run', () => {
  it('share `concurrency`, and pay once for each image they both import', async () => {
    const s = await server({ latency: 150 })
    const dir = await tempProject()
    for (let i = 0; i < 8; i++)
      await sharp({ create: { width: 10 + i, height: 10, channels: 3, background: '#369' } }).png().toFile(join(dir, `src/g${i}.png`))
    const names = Array.from({ length: 8 }, (_, i) => i)
    await writeFile(join(dir, 'src/main.js'), `${names.map(i => `import g${i} from './g${i}.png?upscale'`).join('\n')}\nexport default [${names.map(i => `g${i}`).join(',')}]`)
    const opts = { provider: 'api' as const, token: s.token, apiUrl: s.url, sync: true, concurrency: 3, rateLimit: Infinity, cacheDir: join(dir, '.cache') }
    const one = (ssr: boolean, outDir: string) => build({
      root: dir, configFile: false, logLevel: 'silent', plugins: [Upscale(opts)],
      build: { ssr, outDir, rollupOptions: { input: join(dir, 'src/main.js') } },
    })
    await Promise.all([one(false, 'client'), one(true, 'server')])
    expect(s.stats.maxParallel).toBe(3)
    expect(s.stats.submits).toBe(8)
  })
})

describe('the token never leaks', () => {
  it('is absent from output, errors, the bundle and the cache, after success and after failures', async () => {
    const s = await server()
    const dir = await tempProject()
    const secret = s.token
    const opts = (more: object = {}) => ({ ...api(s).options, ...more })
    async function build(main: string, options: object, outDir: string) {
      await writeFile(join(dir, 'src/main.js'), main)
      const { output, code } = await childBuild(dir, options, outDir).done
      return { output, failed: code !== 0 }
    }
    const one = `import a from './butterfly.png?upscale'; globalThis.result = { a }`

    const ok = await build(THREE, opts(), 'd1')
    expect(ok.failed).toBe(false)
    expect(ok.output).toMatch(/built in/)
    expect(s.stats.authorizations.filter(a => a === `Bearer ${secret}`)).toHaveLength(3 * 5) // it was really sent

    // failures whose answers echo the token back, and a wrong token
    s.inject({ status: 400, message: `token ${secret} may not ask for this` })
    const bad = await build(one, opts(), 'd2')
    expect(bad.failed).toBe(true)
    expect(bad.output).toContain('token *** may not ask for this')
    s.inject({ status: 500, times: 5, message: `internal: ${secret}` })
    const bad2 = await build(one, opts({ retries: 1 }), 'd3')
    expect(bad2.output).toMatch(/gave up after 2 attempts: 1\) the submit answered HTTP 500: internal: \*\*\*/)
    const wrong = await build(one, opts({ token: `${secret}-wrong` }), 'd4')
    expect(wrong.output).toMatch(/rejected the token/)

    for (const { output } of [ok, bad, bad2, wrong])
      expect(output).not.toContain(secret)
    const files = (await listFiles(dir)).filter(f => !f.includes('/src/'))
    expect(files.some(f => f.includes('/d1/assets/'))).toBe(true)
    expect(files.some(f => f.includes('/.cache/'))).toBe(true)
    for (const file of files)
      expect((await readFile(file)).includes(secret), file).toBe(false)
  })
})
