// The packed package with the current vite-imagetools (12 needs Node 22): both plugin orders.
import { cp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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
