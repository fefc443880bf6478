// The packed package with the current vite-imagetools (12 needs Node 22): both plugin orders.
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FIXTURES } from '../helpers/project'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')

describe('the current vite-imagetools, with the packed package', () => {
  it('enhances first, in both plugin orders: imagetools works on the enhanced file', { timeout: 300_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upscale-imagetools-current-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 24 })
    const [pack] = JSON.parse(stdout)
    const app = join(dir, 'app')
    await mkdir(app, { recursive: true })
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    const vite = JSON.parse(await readFile(join(ROOT, 'node_modules/vite/package.json'), 'utf8')).version
    await run('npm', ['install', '--no-audit', '--no-fund', join(dir, pack.filename), `vite@${vite}`, 'vite-imagetools@latest'], { cwd: app, maxBuffer: 1 << 24 })
    const version = JSON.parse(await readFile(join(app, 'node_modules/vite-imagetools/package.json'), 'utf8')).version
    console.info(`vite-imagetools ${version} on Node ${process.versions.node}`)
    await cp(join(FIXTURES, 'bird.png'), join(app, 'bird.png'))
    await writeFile(join(app, 'index.html'), '<script type="module" src="./main.js"></script>')
    await writeFile(join(app, 'main.js'), [
      `import plain from './bird.png?upscale'`,
      `import webp from './bird.png?w=400&format=webp&upscale'`,
      `import meta from './bird.png?w=300&format=avif&as=metadata&upscale'`,
      `document.body.dataset.r = JSON.stringify({ plain, webp, meta })`,
    ].join('\n'))
    for (const [order, plugins] of [['imagetools first', '[imagetools(), Upscale()]'], ['upscale first', '[Upscale(), imagetools()]']]) {
      await writeFile(join(app, 'vite.config.js'), `import Upscale from 'unplugin-upscale/vite'\nimport { imagetools } from 'vite-imagetools'\nexport default { plugins: ${plugins}, build: { minify: false, assetsInlineLimit: 0 } }\n`)
      await rm(join(app, 'dist'), { recursive: true, force: true })
      await run(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '' } })
      const assets = await import('node:fs/promises').then(fs => fs.readdir(join(app, 'dist/assets')))
      const sizes = await Promise.all(assets.filter(a => !a.endsWith('.js')).map(async a => `${(await sharp(join(app, 'dist/assets', a)).metadata()).width} ${a.split('.').pop()}`))
      // 1152: ?upscale alone (4x); 400 webp and 300 avif: imagetools on the enhanced file
      expect(sizes.sort(), order).toEqual(['1152 png', '300 avif', '400 webp'])
    }
  })
})
