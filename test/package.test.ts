import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { installedVersion, packedApp, ROOT, run } from './helpers/pack'
import { FIXTURES } from './helpers/project'

/** The package as users get it: packed, installed into a fresh app, built with the vite CLI. */
describe('the packed package in a fresh app', () => {
  it('installs, exposes every entry, and builds a Vite app with enhanced images', { timeout: 240_000 }, async () => {
    const { pack, app } = await packedApp([`vite@${await installedVersion('vite')}`, `typescript@${await installedVersion('typescript')}`])
    const files = (pack.files as Array<{ path: string }>).map(f => f.path).sort()
    expect(files).toContain('client.d.ts')
    expect(files).toContain('dist/vite.js')
    expect(files).toContain('dist/index.d.ts')
    expect(files.filter(f => !/^(?:dist\/|client\.d\.ts$|package\.json$|README\.md$|LICENSE$|weights\/(?:raisr-x[24]|deblock-q\d+-\d+)\.bin$)/.test(f))).toEqual([])
    // the local engine's learned filters ship inside the package; nothing is downloaded
    expect(files).toEqual(expect.arrayContaining(['weights/raisr-x2.bin', 'weights/raisr-x4.bin', 'weights/deblock-q35-62.bin', 'weights/deblock-q63-84.bin', 'weights/deblock-q85-96.bin']))
    console.info(`packed: ${(pack.size / 1024).toFixed(0)} KB, unpacked ${(pack.unpackedSize / 1024).toFixed(0)} KB, ${files.length} files`)
    expect(pack.files.find(f => f.path === 'dist/cli.js')!.mode & 0o111).not.toBe(0)

    // .ci/run runs this test again with Node 22 and 24 first on PATH: make sure that is what runs the app
    if (process.env.EXPECT_NODE_MAJOR) {
      const { stdout: version } = await run('node', ['-p', 'process.versions.node'])
      expect(version.trim().split('.')[0]).toBe(process.env.EXPECT_NODE_MAJOR)
    }

    await cp(join(FIXTURES, 'bird.png'), join(app, 'bird.png'))

    // every entry loads, as ESM and as CommonJS
    const entries = ['', '/vite', '/rollup', '/rolldown', '/webpack', '/esbuild', '/rspack', '/bun', '/farm', '/api', '/next', '/docusaurus']
    const check = `for (const e of ${JSON.stringify(entries)}) { const m = require('unplugin-upscale' + e); if (!m) throw new Error(e) }`
    await run('node', ['-e', check], { cwd: app })
    await run('node', ['--input-type=module', '-e', `for (const e of ${JSON.stringify(entries)}) await import('unplugin-upscale' + e)`], { cwd: app })

    await writeFile(join(app, 'vite.config.js'), `import Upscale from 'unplugin-upscale/vite'\nexport default { plugins: [Upscale()] }\n`)
    await writeFile(join(app, 'index.html'), '<script type="module" src="./main.js"></script>')
    await writeFile(join(app, 'main.js'), `import url from './bird.png?upscale'\nimport meta from './bird.png?scale=2&as=metadata&upscale'\ndocument.body.dataset.a = url + ' ' + meta.src\n`)
    const built = await run(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '' } })
    expect(built.stdout).toContain('images are enhanced with the built-in local engine')
    expect(built.stdout).toMatch(/\[unplugin-upscale\] 2 images: 0 cached, 2 enhanced \(2 local\), 0 failed/)

    // the bin, as npx runs it
    const cli = await run(join(app, 'node_modules/.bin/unplugin-upscale'), ['cache', 'stats', '--json'], { cwd: app })
    // two enhancements and the placeholder of the metadata import
    expect(JSON.parse(cli.stdout)).toMatchObject({ entries: 3 })

    const assets = await readdir(join(app, 'dist/assets'))
    const x4 = assets.find(f => /^bird@4x-.+\.png$/.test(f))!
    const x2 = assets.find(f => /^bird@2x-.+\.png$/.test(f))!
    expect(await sharp(join(app, 'dist/assets', x4)).metadata()).toMatchObject({ width: 1152, height: 1152 })
    expect(await sharp(join(app, 'dist/assets', x2)).metadata()).toMatchObject({ width: 576, height: 576 })
    const js = await readFile(join(app, 'dist/assets', assets.find(f => f.endsWith('.js'))!), 'utf8')
    expect(js).toContain(`/assets/${x4}`)
    expect(js).toContain(`/assets/${x2}`)
    // the default cache location: beside the app's package.json, out of node_modules
    const cacheDir = join(app, '.upscale-cache')
    expect((await readdir(cacheDir)).length).toBeGreaterThan(0)
    // made by the learned filters, read from the package's own weights/ (not the Lanczos fallback)
    const records = (await readdir(cacheDir, { recursive: true })).filter(f => /^[\da-f]{2}[/\\][\da-f]{64}\.json$/.test(f))
    const all = await Promise.all(records.map(async f => JSON.parse(await readFile(join(cacheDir, f), 'utf8'))))
    // the enhancements (a placeholder is an entry of its own, made by sharp)
    const saved = all.filter(record => record.provider !== 'sharp')
    expect(all.filter(record => record.params.placeholder)).toHaveLength(1)
    expect(saved.map(({ provenance: p }) => `${p.engine} ${p.method} x${p.scale}`).sort()).toEqual(['local learned x2', 'local learned x4'])
    // with the filter stages on WebAssembly SIMD, from the bundle's own copy of the module
    expect(saved.every(record => /^raisr-2:.*:simd\//.test(record.providerVersion))).toBe(true)

    // typed imports through `unplugin-upscale/client` alone, as a webpack or Rspack project has them
    // (no vite/client): every documented form compiles, wrong uses do not
    await cp(join(ROOT, 'fixtures/types'), join(app, 'types'), { recursive: true })
    const tsc = join(app, 'node_modules/.bin/tsc')
    const flags = ['--noEmit', '--strict', '--module', 'esnext', '--moduleResolution', 'bundler', '--types', 'unplugin-upscale/client']
    await run(tsc, [...flags, 'types/ok.ts'], { cwd: app })
    const bad = await run(tsc, [...flags, 'types/bad.ts'], { cwd: app }).then(() => undefined, (e: { stdout: string }) => e.stdout)
    expect(bad).toMatch(/bad\.ts\(5,14\): error TS2322: Type 'string' is not assignable to type 'number'/)
    expect(bad).toMatch(/bad\.ts\(6,14\): error TS2322: Type 'UpscaledMetadata' is not assignable to type 'string'/)
    expect(bad).toMatch(/bad\.ts\(7,23\): error TS2339: Property 'nope' does not exist on type 'UpscaledMetadata'/)
    expect(bad).toMatch(/bad\.ts\(9,14\): error TS2322: Type 'string \| undefined' is not assignable to type 'string'/)
    expect(bad).not.toMatch(/bad\.ts\(10,/)

    // a create-vite app keeps its app code under tsconfig.app.json, with vite/client beside ours
    await writeFile(join(app, 'tsconfig.app.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        module: 'ESNext',
        moduleResolution: 'bundler',
        skipLibCheck: true,
        strict: true,
        noEmit: true,
        types: ['vite/client', 'unplugin-upscale/client'],
      },
      include: ['types/ok.ts'],
    }))
    const appCheck = await run(tsc, ['-p', 'tsconfig.app.json'], { cwd: app }).then(() => '', (e: { stdout: string }) => e.stdout)
    expect(appCheck).toBe('')

    // the JS API, typed, from ESM and CommonJS
    await writeFile(join(app, 'api.mts'), `import { upscale } from 'unplugin-upscale/api'
const r = await upscale('bird.png', { scale: 2 })
const w: number = r.width
const f: 'jpeg' | 'png' | 'webp' | 'avif' = r.format
console.log(JSON.stringify({ w, f, cached: r.cached }))
`)
    const apiCheck = await run(tsc, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', 'api.mts'], { cwd: app })
      .then(() => '', (e: { stdout: string }) => e.stdout)
    expect(apiCheck).toBe('')
    const api = await run('node', ['--input-type=module', '-e', `import { upscale } from 'unplugin-upscale/api'; const r = await upscale('bird.png', { scale: 2, logLevel: 'silent' }); console.log(JSON.stringify(r))`], { cwd: app })
    expect(JSON.parse(api.stdout)).toMatchObject({ width: 576, height: 576, format: 'png', cached: true })
    const cjs = await run('node', ['-e', `require('unplugin-upscale/api').upscale('bird.png', { scale: 1, logLevel: 'silent' }).then(r => console.log(r.width))`], { cwd: app })
    expect(cjs.stdout.trim()).toBe('288')
  })
})
