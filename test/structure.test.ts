import { execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { unpluginFactory } from '../src/index'

const ROOT = resolve(import.meta.dirname, '..')

describe('bundlers stay out of the core', () => {
  it('no file under src/core names a bundler or its URL placeholders', async () => {
    const files = (await readdir(join(ROOT, 'src/core'), { recursive: true })).filter(f => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      const text = await readFile(join(ROOT, 'src/core', file), 'utf8')
      expect(text, file).not.toMatch(/webpack|rspack|esbuild|rolldown|turbopack|next\.js|\bbun\b|\bfarm\b|ROLLUP_FILE_URL|__VITE_ASSET__/i)
    }
  })

  it('an unsupported bundler fails when the plugin is created, naming the supported ones', () => {
    const meta = { framework: 'parcel' } as unknown as Parameters<typeof unpluginFactory>[1]
    expect(() => unpluginFactory({}, meta)).toThrow('[unplugin-upscale] parcel is not supported; unplugin-upscale works with vite, rollup, rolldown, webpack, rspack, esbuild, bun, farm')
  })
})

describe('the sources stay easy to read', () => {
  it('no line in src/ is over 140 characters, strings and templates included', async () => {
    const files = (await readdir(join(ROOT, 'src'), { recursive: true })).filter(f => f.endsWith('.ts'))
    const long: string[] = []
    for (const file of files) {
      const lines = (await readFile(join(ROOT, 'src', file), 'utf8')).split('\n')
      lines.forEach((line, i) => line.length > 140 && long.push(`src/${file}:${i + 1} (${line.length})`))
    }
    expect(long).toEqual([])
  })

  it('the files that did several jobs were split by job: the command line, the hook bodies, the local engine', async () => {
    for (const file of ['src/cli.ts', 'src/core/context.ts', 'src/core/engines/local/raisr.ts']) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n').length
      expect(lines, file).toBeLessThanOrEqual(300)
    }
  })
})

describe('the repository stands on its own', () => {
  it('nothing tracked reads or links a path outside it', async () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n')
      .filter(f => /\.(?:ts|mts|js|json|md)$/.test(f) && f !== 'package-lock.json')
    expect(tracked.length).toBeGreaterThan(20)
    for (const file of tracked) {
      const text = await readFile(join(ROOT, file), 'utf8').catch(() => '')
      expect(text, file).not.toMatch(/\.\.\/(?:\.\.\/)?shared\b/)
    }
  })
})
