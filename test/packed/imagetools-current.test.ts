// The packed package with the current vite-imagetools (12 needs Node 22): both plugin orders.
import { cp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { installedVersion, packedApp, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'

describe('the current vite-imagetools, with the packed package', () => {
  it('enhances first, in both plugin orders: imagetools works on the enhanced file', { timeout: 300_000 }, async () => {
    const { app, versionOf } = await packedApp([`vite@${await installedVersion('vite')}`, 'vite-imagetools@latest'])
    console.info(`vite-imagetools ${await versionOf('vite-imagetools')} on Node ${process.versions.node}`)
    await cp(join(FIXTURES, 'bird.png'), join(app, 'bird.png'))
    await writeFile(join(app, 'index.html'), '<script type="module" src="./main.js"></script>')
    await writeFile(join(app, 'main.js'), [
      `import plain from './bird.png?upscale'`,
      `import webp from './bird.png?w=400&format=webp&upscale'`,
      `import meta from './bird.png?w=300&format=avif&as=metadata&upscale'`,
      `import set from './bird.png?scale=2&w=100;200&format=webp&upscale=srcset'`,
      `globalThis.r = { plain, webp, meta, set }`,
    ].join('\n'))
    for (const [order, plugins] of [['imagetools first', '[imagetools(), Upscale()]'], ['upscale first', '[Upscale(), imagetools()]']]) {
      await writeFile(join(app, 'vite.config.js'), `import Upscale from 'unplugin-upscale/vite'\nimport { imagetools } from 'vite-imagetools'\nexport default { plugins: ${plugins}, build: { minify: false, assetsInlineLimit: 0, modulePreload: { polyfill: false } } }\n`)
      await rm(join(app, 'dist'), { recursive: true, force: true })
      await run(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '' } })
      const assets = await import('node:fs/promises').then(fs => fs.readdir(join(app, 'dist/assets')))
      const sizes = await Promise.all(assets.filter(a => !a.endsWith('.js')).map(async a => `${(await sharp(join(app, 'dist/assets', a)).metadata()).width} ${a.split('.').pop()}`))
      // 1152: ?upscale alone (4x); 400 webp and 300 avif: imagetools on the enhanced file
      // and 100, 200 webp: the srcset, which is a string with widths whatever imagetools makes
      expect(sizes.sort(), order).toEqual(['100 webp', '1152 png', '200 webp', '300 avif', '400 webp'])
      const bundle = assets.find(a => a.endsWith('.js'))!
      await import(`${pathToFileURL(join(app, 'dist/assets', bundle)).href}?t=${Date.now()}`)
      const r = (globalThis as { r?: Record<string, any> }).r!
      expect(r.set, order).toMatch(/^\S+ 100w, \S+ 200w$/)
      expect(r.meta, order).toMatchObject({ width: 300, format: 'avif', scale: 4, originalWidth: 288 })
    }
  })
})
