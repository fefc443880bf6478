import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { tempProject } from './helpers/project'
import { startScaleServer } from './server'

const CLI = resolve(import.meta.dirname, '../dist/cli.js')
const exec = promisify(execFile)

/** The built CLI as a child process; never rejects: the exit code is part of the answer. */
async function cli(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return exec(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, UPSCALE_API_TOKEN: '', ...env } })
    .then(
      r => ({ ...r, code: 0 }),
      (e: { stdout: string, stderr: string, code: number }) => ({ stdout: e.stdout, stderr: e.stderr, code: e.code }),
    )
}

describe('unplugin-upscale (the CLI)', () => {
  it('prints help for each command, and exits 2 on wrong usage', async () => {
    const dir = await tempProject()
    for (const args of [['--help'], ['enhance', '--help'], ['cache', 'stats', '--help'], ['cache', 'prune', '--help'], ['cache', 'clear', '--help']]) {
      const r = await cli(dir, args)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/^Usage: unplugin-upscale /)
    }
    expect(await cli(dir, [])).toMatchObject({ code: 2, stderr: expect.stringContaining('name a command') })
    expect(await cli(dir, ['shrink'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "shrink"') })
    expect(await cli(dir, ['enhance'])).toMatchObject({ code: 2, stderr: expect.stringContaining('name at least one image file') })
    expect(await cli(dir, ['enhance', 'src/bird.png', '--scale', '3'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--scale must be one of auto, 1, 2, 4 (got "3")') })
    expect(await cli(dir, ['enhance', 'src/bird.png', '--colour'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--colour'/) })
    expect(await cli(dir, ['cache', 'shrink'])).toMatchObject({ code: 2 })
  })

  it('enhances files with the local engine and the shared cache, then reports the cache', async () => {
    const dir = await tempProject()
    const first = await cli(dir, ['enhance', 'src/bird.png', 'src/head.jpg', '--scale', '2', '--out', 'big'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('big/bird@2x.png  576×576 png')
    expect(first.stdout).toContain('big/head@2x.jpg  560×560 jpeg')
    expect(first.stderr).toMatch(/2 images: 0 cached, 2 enhanced \(2 local\), 0 failed/)
    expect(await sharp(join(dir, 'big/bird@2x.png')).metadata()).toMatchObject({ width: 576, height: 576 })

    const again = await cli(dir, ['enhance', 'src/bird.png', '--scale', '2', '--format', 'webp', '--out', 'big'])
    expect(again.stdout).toContain('big/bird@2x.webp  576×576 webp (cached)')

    const stats = await cli(dir, ['cache', 'stats', '--json'])
    // two enhancements, one conversion, and the placeholders of the two enhanced images
    expect(JSON.parse(stats.stdout)).toMatchObject({ entries: 5, dir: join(dir, '.upscale-cache') })
    expect((await cli(dir, ['cache', 'stats'])).stdout).toMatch(/5 entries, [\d.]+ (KB|MB)/)

    expect((await cli(dir, ['cache', 'prune', '--max-size', '0'])).stdout).toMatch(/removed 5 entries/)
    expect(JSON.parse((await cli(dir, ['cache', 'stats', '--json'])).stdout).entries).toBe(0)

    await cli(dir, ['enhance', 'src/bird.png', '--scale', '1'])
    expect(await readdir(join(dir, 'upscaled'))).toEqual(['bird@1x.png'])
    await writeFile(join(dir, '.upscale-cache/prune.json'), '{}') // as a build leaves it
    expect((await cli(dir, ['cache', 'clear'])).stdout).toMatch(/removed 2 entries/)
    expect(JSON.parse((await cli(dir, ['cache', 'stats', '--json'])).stdout).entries).toBe(0)
  })

  it('exits 1 when an image fails, naming it, and still writes the others', async () => {
    const dir = await tempProject()
    await writeFile(join(dir, 'src/fake.jpg'), 'not an image')
    const r = await cli(dir, ['enhance', 'src/fake.jpg', 'src/bird.png', '--scale', '1', '--quiet'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('cannot upscale src/fake.jpg: the file is not an image sharp can read')
    expect(await readdir(join(dir, 'upscaled'))).toEqual(['bird@1x.png'])
  })

  it('uses the API with a token, offline mode and dry runs like the plugin', async () => {
    const s = await startScaleServer()
    onTestFinished(() => s.close())
    const dir = await tempProject()
    const env = { UPSCALE_API_TOKEN: s.token, UPSCALE_API_URL: s.url }
    const dry = await cli(dir, ['enhance', 'src/bird.png', '--scale', '2', '--dry-run'], env)
    expect(s.stats.requests).toBe(0)
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('would send src/bird.png to the API (billable)') })
    const sent = await cli(dir, ['enhance', 'src/bird.png', '--scale', '2'], env)
    expect(sent.code, sent.stderr).toBe(0)
    expect(s.stats.submits).toBe(1)
    expect(sent.stderr).toMatch(/1 enhanced \(1 API\)/)
    const offline = await cli(dir, ['enhance', 'src/bird.png', 'src/woman.png', '--scale', '2', '--provider', 'api', '--offline'], { UPSCALE_API_URL: s.url })
    expect(offline.code).toBe(1)
    expect(offline.stdout).toContain('bird@2x.png  576×576 png (cached)')
    expect(offline.stderr).toContain('cannot upscale src/woman.png: it is not in the cache, and offline mode sends nothing to the API')
    expect(s.stats.submits).toBe(1)
    expect(`${sent.stdout}${sent.stderr}${offline.stderr}`).not.toContain(s.token)
    expect((await readFile(join(dir, 'upscaled/bird@2x.png'))).length).toBeGreaterThan(0)
  })

  it('walks folders (images only, subfolders kept) and expands quoted globs itself', async () => {
    const dir = await tempProject()
    await mkdir(join(dir, 'src/gallery/birds'), { recursive: true })
    await cp(join(dir, 'src/bird.png'), join(dir, 'src/gallery/birds/bird.png'))
    await cp(join(dir, 'src/head.jpg'), join(dir, 'src/gallery/head.jpg'))
    await writeFile(join(dir, 'src/gallery/notes.txt'), 'not an image')
    const folder = await cli(dir, ['enhance', 'src/gallery', '--scale', '1', '--out', 'out'])
    expect(folder.code, folder.stderr).toBe(0)
    expect((await readdir(join(dir, 'out'), { recursive: true })).sort()).toEqual(['birds', 'birds/bird@1x.png', 'head@1x.jpg'])
    // a quoted glob, as every shell passes it: expanded by the CLI, relative to its folder part
    const glob = await cli(dir, ['enhance', 'src/gallery/**/*.png', '--scale', '1', '--out', 'globbed'])
    expect(glob.code, glob.stderr).toBe(0)
    expect((await readdir(join(dir, 'globbed'), { recursive: true })).sort()).toEqual(['birds', 'birds/bird@1x.png'])
    expect(await cli(dir, ['enhance', 'src/nothing/*.png'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no file matches "src/nothing/*.png"') })
  })

  it('refuses two sources that would be written to one path, naming both, before writing anything', async () => {
    const dir = await tempProject()
    await mkdir(join(dir, 'coll/a'), { recursive: true })
    await mkdir(join(dir, 'coll/b'), { recursive: true })
    await cp(join(dir, 'src/bird.png'), join(dir, 'coll/a/hero.png'))
    await cp(join(dir, 'src/butterfly.png'), join(dir, 'coll/b/hero.png'))
    const r = await cli(dir, ['enhance', 'coll/a/hero.png', 'coll/b/hero.png', '--scale', '2', '--out', 'out'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('coll/a/hero.png and coll/b/hero.png would both be written to out/hero@2x.png')
    expect(await readdir(join(dir, 'out')).catch(() => 'none')).toBe('none')
    // the folder of both keeps them apart
    expect((await cli(dir, ['enhance', 'coll', '--scale', '2', '--out', 'out'])).code).toBe(0)
    expect((await readdir(join(dir, 'out'), { recursive: true })).sort()).toEqual(['a', 'a/hero@2x.png', 'b', 'b/hero@2x.png'])
  })

  it('prints one JSON manifest with --json, the shape the JS API returns', async () => {
    const dir = await tempProject()
    const first = await cli(dir, ['enhance', 'src/bird.png', 'src/head.jpg', '--scale', '2', '--json', '--out', 'out'])
    expect(first.code, first.stderr).toBe(0)
    const manifest = JSON.parse(first.stdout)
    expect(manifest).toEqual([
      { source: 'src/bird.png', file: join(dir, 'out/bird@2x.png'), src: 'out/bird@2x.png', width: 576, height: 576, format: 'png', originalWidth: 288, originalHeight: 288, scale: 2, type: 'clean', cached: false, key: expect.stringMatching(/^[a-f\d]{64}$/), blurDataURL: expect.stringMatching(/^data:image\/webp;base64,/), blurWidth: 16, blurHeight: 16, dominantColor: expect.stringMatching(/^#[\da-f]{6}$/) },
      { source: 'src/head.jpg', file: join(dir, 'out/head@2x.jpg'), src: 'out/head@2x.jpg', width: 560, height: 560, format: 'jpeg', originalWidth: 280, originalHeight: 280, scale: 2, type: 'clean', cached: false, key: expect.stringMatching(/^[a-f\d]{64}$/), blurDataURL: expect.stringMatching(/^data:image\/webp;base64,/), blurWidth: 16, blurHeight: 16, dominantColor: expect.stringMatching(/^#[\da-f]{6}$/) },
    ])
    for (const entry of manifest)
      expect(await sharp(entry.file).metadata()).toMatchObject({ width: entry.width, height: entry.height })
    const again = JSON.parse((await cli(dir, ['enhance', 'src/bird.png', '--scale', '2', '--json', '--out', 'out'])).stdout)
    expect(again).toEqual([{ ...manifest[0], cached: true }])
  })
})
