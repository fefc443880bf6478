import type { build as EsbuildBuild } from 'esbuild'
import type { Plugin } from 'rollup'
import type { Options } from '../../src/types'
import { readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { rspack } from '@rspack/core'
import * as esbuild from 'esbuild'
import * as esbuild021 from 'esbuild-0.21'
import { rollup } from 'rollup'
import webpack from 'webpack'
import UpscaleEsbuild from '../../src/esbuild'
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
async function webpackLike(name: 'webpack' | 'rspack', dir: string, options: Options) {
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
    : rspack({ ...config, plugins: [UpscaleRspack(options)] })) as unknown as LikeCompiler
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

export async function writeMain(dir: string, code: string): Promise<void> {
  await writeFile(join(dir, 'src/main.js'), code)
}
