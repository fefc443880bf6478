import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { build } from 'vitepress'
import { describe, expect, it } from 'vitest'
import { tempProject } from './helpers/project'

const PLUGIN = resolve(import.meta.dirname, '../src/vite.ts')

/** A static-site pipeline: VitePress renders the page on the server (SSR) and hydrates it in the client. */
describe('VitePress', () => {
  it('builds a page that shows an enhanced image, the same URL in the HTML and in the client bundle', async () => {
    const dir = await tempProject()
    const docs = join(dir, 'src')
    // the site's own dependencies (vue), as an installed app has them
    await symlink(resolve(import.meta.dirname, '../node_modules'), join(dir, 'node_modules'), 'dir')
    await mkdir(join(docs, '.vitepress'), { recursive: true })
    await writeFile(join(docs, '.vitepress/config.mjs'), `
      import Upscale from ${JSON.stringify(PLUGIN)}
      export default { title: 'smoke', vite: { plugins: [Upscale({ cacheDir: ${JSON.stringify(join(dir, '.cache'))} })] } }
    `)
    await writeFile(join(docs, 'index.md'), [
      '<script setup>',
      'import hero, { width, height } from \'./bird.png?scale=2&upscale\'',
      '</script>',
      '',
      '# A bird, twice as large',
      '',
      '<img id="hero" :src="hero" :width="width" :height="height" alt="a toucan">',
      '',
    ].join('\n'))

    await build(docs, { outDir: join(dir, 'site') })

    const html = await readFile(join(dir, 'site/index.html'), 'utf8')
    const img = /<img id="hero" src="([^"]+)" width="576" height="576"/.exec(html)
    expect(img, html.slice(0, 2000)).not.toBeNull()
    const url = img![1]
    expect(url).toMatch(/^\/assets\/bird@2x\.[\w-]+\.png$/)
    expect(await sharp(join(dir, 'site', url)).metadata()).toMatchObject({ width: 576, height: 576, format: 'png' })

    // the client bundle that hydrates the page refers to the same file
    const assets = await readdir(join(dir, 'site/assets'))
    const scripts = await Promise.all(assets.filter(f => f.endsWith('.js')).map(f => readFile(join(dir, 'site/assets', f), 'utf8')))
    expect(scripts.some(code => code.includes(url.slice(1)))).toBe(true)
  })
})
