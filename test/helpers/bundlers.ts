import type { build as EsbuildBuild } from 'esbuild'
import type { Plugin } from 'rollup'
import type { Options } from '../../src/types'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { rspack } from '@rspack/core'
import * as esbuild from 'esbuild'
import * as esbuild021 from 'esbuild-0.21'
import { rolldown } from 'rolldown'
import { rollup } from 'rollup'
import { rspack as rspack1 } from 'rspack1'
import webpack from 'webpack'
import UpscaleEsbuild from '../../src/esbuild'
import UpscaleRolldown from '../../src/rolldown'
import UpscaleRollup from '../../src/rollup'
import UpscaleRspack from '../../src/rspack'
import UpscaleWebpack from '../../src/webpack'

/** What a Rollup app has for plain image imports (as @rollup/plugin-url would do): emit, export the URL. */
function plainImages(): Plugin {
  return {
    name: 'plain-images',
    async load(id) {
      if (!/\.(?:png|jpe?g)$/.test(id))
        return null
      const ref = this.emitFile({ type: 'asset', name: basename(id), source: await readFile(id) })
      return `export default import.meta.ROLLUP_FILE_URL_${ref}`
    },
  }
}

/** The image rule a webpack or Rspack app has anyway, for plain image imports. */
const IMAGE_RULE = { test: /\.(?:png|jpe?g|webp|avif)$/i, type: 'asset/resource' as const }

interface CompilerStats {
  hasErrors: () => boolean
  toJson: (o: object) => { errors: Array<{ message: string }> }
}

interface LikeCompiler {
  run: (done: (error: Error | null, stats: CompilerStats) => void) => void
  close: (done: (error?: Error | null) => void) => void
}

/** webpack and Rspack take the same configuration; so do their users. */
async function webpackLike(name: 'webpack' | 'rspack' | 'rspack@1', dir: string, options: Options) {
  const out = join(dir, name)
  const config = {
    mode: 'production' as const,
    context: dir,
    target: 'node' as const,
    entry: join(dir, 'src/main.js'),
    output: { path: out, filename: 'main.js', publicPath: '/static/' },
    module: { rules: [IMAGE_RULE] },
    optimization: { minimize: false },
    infrastructureLogging: { level: 'none' as const },
  }
  // the two compilers have the same run/close API, not the same types
  const compiler = (name === 'webpack'
    ? webpack({ ...config, plugins: [UpscaleWebpack(options)] })
    : (name === 'rspack' ? rspack : rspack1 as unknown as typeof rspack)({ ...config, plugins: [UpscaleRspack(options)] })) as unknown as LikeCompiler
  const stats = await promisify(compiler.run.bind(compiler))()
  await promisify(compiler.close.bind(compiler))()
  if (stats.hasErrors())
    throw new Error(stats.toJson({ all: false, errors: true }).errors.map(e => e.message).join('\n'))
  return { out, entry: join(out, 'main.js'), publicPath: '/static/' }
}

/**
 * Build `<dir>/src/main.js` with one bundler into `<dir>/<bundler>`, the way its users configure
 * it, with `publicPath` where the bundler has one. Returns the output dir and the JS entry file.
 */
export const bundlers = {
  async rollup(dir: string, options: Options) {
    const out = join(dir, 'rollup')
    const bundle = await rollup({ input: join(dir, 'src/main.js'), plugins: [UpscaleRollup({ root: dir, ...options }), plainImages()], logLevel: 'silent' })
    await bundle.write({ dir: out, format: 'es', entryFileNames: 'main.js' })
    await bundle.close()
    return { out, entry: join(out, 'main.js'), publicPath: undefined }
  },

  'webpack': (dir: string, options: Options) => webpackLike('webpack', dir, options),

  'rspack': (dir: string, options: Options) => webpackLike('rspack', dir, options),

  /** the other major in the peer range (Rsbuild 1, Docusaurus 3 with @docusaurus/faster) */
  'rspack@1': (dir: string, options: Options) => webpackLike('rspack@1', dir, options),

  async rolldown(dir: string, options: Options) {
    const out = join(dir, 'rolldown')
    const bundle = await rolldown({ input: join(dir, 'src/main.js'), cwd: dir, plugins: [UpscaleRolldown({ root: dir, ...options }), plainImages() as never], logLevel: 'silent' })
    await bundle.write({ dir: out, format: 'es', entryFileNames: 'main.mjs' })
    await bundle.close()
    return { out, entry: join(out, 'main.mjs'), publicPath: undefined }
  },

  /** Farm in a child process: its build() exits the process when the build fails */
  async farm(dir: string, options: Options) {
    const out = join(dir, 'farm')
    const config = {
      root: dir,
      compilation: {
        input: { main: './src/main.js' },
        output: { path: out, publicPath: '/static/', targetEnv: 'node', format: 'esm', entryFilename: '[entryName].mjs' },
        minify: false,
        presetEnv: false,
      },
    }
    const script = `import { build } from ${JSON.stringify(import.meta.resolve('@farmfe/core'))}
import Upscale from ${JSON.stringify(resolve(import.meta.dirname, '../../src/farm.ts'))}
await build({ ...${JSON.stringify(config)}, plugins: [Upscale(${JSON.stringify(jsonOptions(options))})] })
`
    const output = await child(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], dir)
    return { out, entry: join(out, 'main.mjs'), publicPath: '/static/', output }
  },

  /**
   * Bun.build in the bun runtime (the `bun` package's binary), from the plugin's source; options go
   * over as JSON, so a custom engine cannot: the local engine runs, and the caller reads the summary.
   */
  async bun(dir: string, options: Options) {
    const out = join(dir, 'bun')
    const script = `import Upscale from ${JSON.stringify(resolve(import.meta.dirname, '../../src/bun.ts'))}
const r = await Bun.build({ entrypoints: [${JSON.stringify(join(dir, 'src/main.js'))}], outdir: ${JSON.stringify(out)}, publicPath: '/static/', target: 'node', naming: { asset: '[name].[ext]' }, loader: { '.png': 'file', '.jpg': 'file' }, plugins: [Upscale(${JSON.stringify({ root: dir, ...jsonOptions(options) })})] })
if (!r.success) { console.error(r.logs.map(l => l.message ?? String(l)).join('\\n')); process.exit(1) }
`
    const output = await child(resolve(import.meta.dirname, '../../node_modules/.bin/bun'), ['-e', script], dir)
    return { out, entry: join(out, 'main.js'), publicPath: '/static/', output }
  },

  'esbuild': (dir: string, options: Options) => esbuildWith(esbuild, 'esbuild', dir, options),

  /** the oldest esbuild in the peer range (the one Vite 5 uses) */
  'esbuild@0.21': (dir: string, options: Options) => esbuildWith(esbuild021 as unknown as typeof esbuild, 'esbuild-0.21', dir, options),
}

/** An esbuild build the way its users configure it; `esbuild` is the module of one esbuild version. */
async function esbuildWith(esbuild: { build: typeof EsbuildBuild }, name: string, dir: string, options: Options) {
  const out = join(dir, name)
  await esbuild.build({
    entryPoints: [join(dir, 'src/main.js')],
    bundle: true,
    outdir: out,
    format: 'esm',
    absWorkingDir: dir,
    publicPath: '/static',
    loader: { '.png': 'file', '.jpg': 'file' },
    logLevel: 'silent',
    plugins: [UpscaleEsbuild(options)],
  })
  return { out, entry: join(out, 'main.js'), publicPath: '/static/' }
}

export type BundlerName = keyof typeof bundlers

/** Options as a child process gets them: JSON, so without a custom engine (the local one runs). */
function jsonOptions(options: Options): Options {
  const { engine: _, ...plain } = options
  return plain
}

/** A build in a child process; resolves with its output, rejects with it when the build fails. */
async function child(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, env: { ...process.env, UPSCALE_API_TOKEN: '' }, maxBuffer: 1 << 24 })
    .catch((error: { stderr: string, stdout: string }) => {
      // Farm prints the plugin's error inside a quoted Rust debug string
      throw new Error(`${error.stderr}${error.stdout}`.replaceAll('\\"', '"'))
    })
  return stdout + stderr
}

export async function writeMain(dir: string, code: string): Promise<void> {
  await writeFile(join(dir, 'src/main.js'), code)
}
