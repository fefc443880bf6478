import type { Engine, EnhanceRequest, Options } from '../../src/types'
import { spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { build } from 'vite'
import { onTestFinished } from 'vitest'
import { createLocalEngine } from '../../src/core/engines/local'
import Upscale from '../../src/vite'

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/images')

/** A temp project with the fixture images in `src/`, removed after the test. */
export async function tempProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'upscale-test-'))
  await cp(FIXTURES, join(dir, 'src'), { recursive: true })
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The local engine, counting its calls. */
export function countingEngine(): { engine: Engine, calls: EnhanceRequest[] } {
  const inner = createLocalEngine()
  const calls: EnhanceRequest[] = []
  return {
    calls,
    engine: {
      id: inner.id,
      version: inner.version,
      enhance: (r) => {
        calls.push(r)
        return inner.enhance(r)
      },
    },
  }
}

export interface BuildOptions {
  options?: Options
  base?: string
  ssr?: boolean
  outDir?: string
  logLevel?: 'silent' | 'info'
  assetsDir?: string
  /** another Vite's `build` (the peer range is tested with each major) */
  vite?: typeof build
}

/**
 * `vite build` of `<dir>/src/main.js`, which puts what it imported on `globalThis.result`.
 * Returns that object, evaluated from the built bundle, and the output dir.
 */
export async function viteBuild(dir: string, main: string, options: BuildOptions = {}) {
  const { base = '/', ssr = false, outDir = 'dist', logLevel = 'silent', assetsDir, vite = build } = options
  await writeFile(join(dir, 'src/main.js'), main)
  await vite({
    root: dir,
    base,
    configFile: false,
    logLevel,
    plugins: [Upscale({ cacheDir: join(dir, '.cache'), ...options.options })],
    build: {
      outDir,
      assetsDir,
      ssr,
      minify: false,
      rollupOptions: { input: join(dir, 'src/main.js'), output: { entryFileNames: '[name].js' } },
    },
  })
  const out = join(dir, outDir)
  const g = globalThis as { result?: Record<string, unknown> }
  delete g.result
  await import(`${pathToFileURL(join(out, 'main.js')).href}?t=${Date.now()}`)
  return { out, result: g.result as unknown as Record<string, any> }
}

/** The emitted file a URL points to, with its dimensions and format read back by sharp. */
export async function emitted(out: string, url: string, base = '/') {
  if (!url.startsWith(base))
    throw new Error(`${url} does not start with base ${base}`)
  const file = join(out, url.slice(base.length))
  const data = await readFile(file)
  const meta = await sharp(data).metadata()
  return { file, data, width: meta.width!, height: meta.height!, format: meta.format }
}

export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

/** Everything written to stdout, stderr and the console while `task` runs. */
export async function captureOutput<T>(task: () => Promise<T>): Promise<{ output: string, result?: T, error?: Error }> {
  const chunks: string[] = []
  const out = process.stdout.write.bind(process.stdout)
  const err = process.stderr.write.bind(process.stderr)
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const
  const saved = methods.map(m => console[m])
  const record = ((c: string | Uint8Array) => {
    chunks.push(String(c))
    return true
  }) as typeof process.stdout.write
  process.stdout.write = record
  process.stderr.write = record
  for (const m of methods)
    console[m] = (...args: unknown[]) => { chunks.push(args.map(a => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(' ')) }
  try {
    const result = await task()
    return { output: chunks.join(''), result }
  }
  catch (error) {
    return { output: chunks.join(''), error: error as Error }
  }
  finally {
    process.stdout.write = out
    process.stderr.write = err
    methods.forEach((m, i) => {
      console[m] = saved[i]
    })
  }
}

const CHILD = resolve(import.meta.dirname, 'build-child.mts')

interface ChildResult { output: string, code: number | null, signal: NodeJS.Signals | null, maxRssMb: number }

/** `vite build` of `<dir>/src/main.js` in a child process; resolves with its output and exit code. */
export function childBuild(dir: string, options: object, outDir: string, env: NodeJS.ProcessEnv = {}) {
  // node itself (not the tsx wrapper), so that a kill reaches the process that does the work
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ dir, options, outDir })], { env: { ...process.env, UPSCALE_API_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (c: Buffer): void => {
    output += c
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const done = new Promise<ChildResult>((res) => {
    child.on('close', (code, signal) => res({ output, code, signal, maxRssMb: Number(/maxRSS (\d+)/.exec(output)?.[1] ?? Number.NaN) / 1024 }))
  })
  return { child, done }
}
