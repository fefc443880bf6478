import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FIXTURES } from './helpers/project'
import { readmeSnippets } from './helpers/readme'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..')
const ELEVENTY = join(ROOT, 'node_modules/@11ty/eleventy/cmd.cjs')

/** An Eleventy 3 site made of the README's snippets, with this package installed as a link to the built one. */
async function site(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'upscale-eleventy-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const [config, template] = readmeSnippets('### Eleventy, and any Node script: the JS API')
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(ROOT, join(dir, 'node_modules/unplugin-upscale'))
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }))
  await writeFile(join(dir, 'eleventy.config.js'), config)
  await mkdir(join(dir, 'src/images'), { recursive: true })
  await cp(join(FIXTURES, 'bird.png'), join(dir, 'src/images/bird.png'))
  await writeFile(join(dir, 'src/index.liquid'), `<h1>Birds</h1>\n${template}`)
  return dir
}

async function eleventy(dir: string) {
  const { stdout, stderr } = await run(process.execPath, [ELEVENTY, '--input=src', '--output=_site'], { cwd: dir, env: { ...process.env, UPSCALE_API_TOKEN: '' } })
  const html = await readFile(join(dir, '_site/index.html'), 'utf8')
  const [, src, width, height] = /<img src="([^"]+)" alt="A bird, enhanced" width="(\d+)" height="(\d+)">/.exec(html)!
  return { output: stdout + stderr, src, width: Number(width), height: Number(height) }
}

describe('Eleventy 3 with the JS API (the README\'s shortcode)', () => {
  it('renders <img> pointing at the enhanced file, with its real size, on a cold and a warm cache', { timeout: 120_000 }, async () => {
    const dir = await site()
    const cold = await eleventy(dir)
    expect(cold.src).toMatch(/^\/img\/bird@2x-[\da-f]{8}\.png$/)
    const file = join(dir, '_site', cold.src)
    expect(await sharp(file).metadata()).toMatchObject({ width: cold.width, height: cold.height, format: 'png' })
    expect([cold.width, cold.height]).toEqual([576, 576])
    expect(cold.output).toMatch(/\[unplugin-upscale\] 1 image: 0 cached, 1 enhanced \(1 local\), 0 failed/)

    const warm = await eleventy(dir)
    expect(warm).toMatchObject({ src: cold.src, width: 576, height: 576 })
    expect(warm.output).toMatch(/\[unplugin-upscale\] 1 image: 1 cached, 0 enhanced, 0 failed/)
  })
})
