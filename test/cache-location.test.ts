import { cp, mkdir, readdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { captureOutput, tempProject, viteBuild } from './helpers/project'

const main = `import url from './bird.png?scale=2&upscale'\nglobalThis.result = { url }\n`
const entries = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true }).catch(() => [] as string[])).filter(f => /^[\da-f]{2}[/\\][\da-f]{64}\.json$/.test(f))

describe('the default cache location', () => {
  it('is .upscale-cache beside the nearest package.json, even when the bundler\'s root is a subfolder (Nuxt\'s app/)', async () => {
    const project = await tempProject()
    await writeFile(join(project, 'package.json'), '{"name":"site","private":true}')
    // the bundler's root is app/, as Nuxt's is
    const app = join(project, 'app')
    await cp(join(project, 'src'), join(app, 'src'), { recursive: true })
    const { result } = await viteBuild(app, main, { options: { cacheDir: undefined } })
    expect(result.url).toMatch(/bird@2x-[\da-f]{8}\.png$/)
    expect(await entries(join(project, '.upscale-cache'))).toHaveLength(1)
    expect(await readdir(app)).not.toContain('node_modules')
  })

  it('the first build after upgrading moves the old default cache (node_modules/.cache/unplugin-upscale) and enhances nothing again', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'package.json'), '{"name":"site","private":true}')
    // a cache filled by this version, then put where 0.1 kept it
    await viteBuild(dir, main, { options: { cacheDir: undefined } })
    await mkdir(join(dir, 'node_modules/.cache'), { recursive: true })
    await rename(join(dir, '.upscale-cache'), join(dir, 'node_modules/.cache/unplugin-upscale'))
    const { output } = await captureOutput(() => viteBuild(dir, main, { options: { cacheDir: undefined }, logLevel: 'info' }))
    expect(output).toContain('The cache moved from node_modules/.cache/unplugin-upscale to .upscale-cache')
    expect(output).toMatch(/1 image: 1 cached, 0 enhanced/)
    expect(await entries(join(dir, '.upscale-cache'))).toHaveLength(1)
    expect(await readdir(join(dir, 'node_modules/.cache'))).toEqual([])
  })
})
