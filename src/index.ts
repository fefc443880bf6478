import type { UnpluginFactory, UnpluginOptions } from 'unplugin'
import type { ProcessedImage } from './core/pipeline'
import type { Options } from './types'
import { createUnplugin } from 'unplugin'
import { UpscaleContext } from './core/context'
import { displayPath } from './core/errors'
import { UpscaleError } from './core/errors'
import { STYLE_FILE } from './core/markup'
import { firstTime } from './core/state'
import { emitterFor } from './emit'
import { createFarmEmitter } from './emit/farm'
import { viteHooks } from './glue/vite'

export const unpluginFactory: UnpluginFactory<Options | undefined, boolean> = (rawOptions, meta) => {
  const emitter = emitterFor(meta.framework)
  const emit = (hookContext: unknown, image: ProcessedImage, file: string): string =>
    emitter.emit(hookContext, { image, originalFileName: displayPath(file, ctx.upscaler.options.root) })
  const ctx: UpscaleContext = new UpscaleContext(rawOptions, emit, emitter.importOriginal)
  const rule = { resourceQuery: ctx.idFilter, type: 'javascript/auto' }
  const vite = meta.framework === 'vite' ? viteHooks(ctx, emitter) : undefined
  const main: UnpluginOptions = {
    name: 'unplugin-upscale',
    enforce: 'pre',
    buildStart: () => ctx.buildStart(),
    buildEnd: () => ctx.buildEnd(),
    resolveId: {
      filter: { id: ctx.idFilter },
      handler(id, importer) {
        return ctx.resolveId(this, id, importer)
      },
    },
    load: {
      filter: { id: ctx.idFilter },
      handler(id) {
        return ctx.load(this, id)
      },
    },
    esbuild: {
      // what `load` returns is always JavaScript, whatever the file extension says
      loader: 'js',
      setup(build) {
        ctx.configure({ root: build.initialOptions.absWorkingDir ?? process.cwd() })
      },
    },
    farm: {
      // Farm's persistent cache drops the files plugins emit from `load` (the page would point at
      // images that were never written): it is turned off for builds with this plugin, saying so
      config(config: { compilation?: { persistentCache?: unknown } }) {
        if (config.compilation?.persistentCache === false)
          return config
        if (firstTime(FARM_CACHE_NOTICE))
          ctx.upscaler.report.info(FARM_CACHE_NOTICE)
        return { ...config, compilation: { ...config.compilation, persistentCache: false } }
      },
      // where Farm serves the output from, for the URLs of enhanced images
      configResolved(config: { root?: string, compilation?: { root?: string, output?: { publicPath?: string } } }) {
        ctx.configure({ root: config.root ?? config.compilation?.root ?? process.cwd() })
        ;(emitter as ReturnType<typeof createFarmEmitter>).setPublicPath?.(config.compilation?.output?.publicPath)
      },
    } as Record<string, unknown>,
    // Bun guesses a loader from the file extension; what `load` returns is JavaScript
    bun: { loader: 'js' },
    // webpack and Rspack: `?upscale` modules are JavaScript, so users' image rules do not catch them
    webpack(compiler) {
      // Rspack runs webpack plugins, but not the hooks unplugin's webpack adapter relies on
      if ((compiler as { webpack?: { rspackVersion?: string } }).webpack?.rspackVersion || 'rspack' in compiler)
        throw new UpscaleError('unplugin-upscale/webpack does nothing under Rspack (Rsbuild, Docusaurus with @docusaurus/faster): use '
          + 'unplugin-upscale/rspack instead')
      refuseNext(compiler.options.module.rules)
      ctx.configure({ root: compiler.context })
      compiler.options.module.rules.push(rule)
    },
    rspack(compiler) {
      ctx.configure({ root: compiler.context })
      compiler.options.module.rules.push(rule)
    },
    transform: {
      filter: { id: STYLE_FILE, code: 'upscale' },
      async handler(code, id) {
        if (!vite)
          throw new UpscaleError(`${displayPath(id, ctx.upscaler.options.root)}: \`?upscale\` URLs in stylesheets need Vite; with `
            + `${meta.framework}, import the image from JavaScript instead`)
        return vite.transformStyle(this, code, id)
      },
    },
    vite: vite && {
      config: vite.config,
      configResolved: vite.configResolved,
      configureServer: vite.configureServer,
      transformIndexHtml: vite.transformIndexHtml,
    },
  }
  // after Vite has put the pages into the bundle: the images their `?upscale` URLs refer to
  const pages: UnpluginOptions = {
    name: 'unplugin-upscale:pages',
    enforce: 'post',
    vite: vite && {
      generateBundle(
        this: { emitFile: (file: { type: 'asset', fileName: string, source: Uint8Array }) => unknown },
        _: unknown,
        bundle: Record<string, any>,
      ) {
        vite.finishPages(file => this.emitFile(file), bundle)
      },
    },
  }
  return meta.framework === 'vite' ? [main, pages] : main
}

const FARM_CACHE_NOTICE = '[unplugin-upscale] Farm\'s persistent cache is off for this build: it drops the images plugins emit '
  + '(unplugin-upscale keeps its own cache of enhanced images).'

/**
 * Next.js serves only what its own asset handling emits (`/_next/static/`): images emitted by the
 * plain webpack entry would be 404s there, so that setup fails at once, saying what works.
 */
function refuseNext(rules: unknown[]): void {
  const next = rules.some(rule => rule && typeof rule === 'object' && (rule as { loader?: unknown }).loader === 'next-image-loader')
  if (next)
    throw new UpscaleError('unplugin-upscale/webpack does not work inside Next.js (its files would not be served); wrap next.config with '
      + 'withUpscale from \'unplugin-upscale/next\' instead')
}

export const unplugin = /* #__PURE__ */ createUnplugin(unpluginFactory)

export default unplugin
export type { Preset } from './core/presets'
export type { Engine, EnhanceRequest, EnhanceResult, Options, UpscaledImage } from './types'
export { createLocalEngine } from './core/engines/local'
