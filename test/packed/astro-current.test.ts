// The packed package in a fresh app with the current Astro, which needs Node 22.12 or later:
// .ci/run runs this file under the registry's Node 22 and 24 (it is not part of `npm test`,
// which runs on Node 20 and builds Astro 5 in test/astro.test.ts).
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')

describe('the current Astro, with the packed package', () => {
  it('`astro build` of the README\'s page optimises the enhanced file', { timeout: 300_000 }, async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
    const dir = await mkdtemp(join(tmpdir(), 'upscale-astro-current-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 24 })
    const [pack] = JSON.parse(stdout)
    const app = join(dir, 'app')
    await mkdir(join(app, 'src/pages'), { recursive: true })
    await mkdir(join(app, 'src/images'), { recursive: true })
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    await run('npm', ['install', '--no-audit', '--no-fund', join(dir, pack.filename), 'astro@latest'], { cwd: app, maxBuffer: 1 << 24 })
    const astro = JSON.parse(await readFile(join(app, 'node_modules/astro/package.json'), 'utf8')).version
    console.info(`Astro ${astro} on Node ${process.versions.node}`)

    const [config, page] = readmeSnippets('### Astro')
    await writeFile(join(app, 'astro.config.mjs'), config)
    await writeFile(join(app, 'src/pages/index.astro'), page)
    await cp(join(FIXTURES, 'bird.png'), join(app, 'src/images/bird.png'))
    const built = await run(join(app, 'node_modules/.bin/astro'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '', ASTRO_TELEMETRY_DISABLED: '1' }, maxBuffer: 1 << 24 })
    expect(built.stdout + built.stderr).toMatch(/1 image: 0 cached, 1 enhanced \(1 local\)/)
    const html = await readFile(join(app, 'dist/index.html'), 'utf8')
    const img = /<img[^>]*>/.exec(html)![0]
    const src = /\ssrc="([^"]+)"/.exec(img)![1]
    expect(/\swidth="(\d+)"/.exec(img)![1]).toBe('576')
    expect(await sharp(join(app, 'dist', src)).metadata()).toMatchObject({ width: 576, height: 576 })
  })
})
