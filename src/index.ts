import type { UnpluginFactory } from 'unplugin'
import type { ProcessedImage } from './core/pipeline'
import type { Options } from './types'
import { createUnplugin } from 'unplugin'
import { UpscaleContext } from './core/context'
import { displayPath } from './core/errors'
import { UPSCALE_ID } from './core/query'
import { emitterFor } from './emit'

/** What a Vite dev environment (or Vite 5's dev server) offers to reload a module. */
interface Reloadable {
  moduleGraph: { getModuleById: (id: string) => object | undefined, invalidateModule: (module: object) => void }
  reloadModule: (module: object) => Promise<void>
}

export const unpluginFactory: UnpluginFactory<Options | undefined> = (rawOptions, meta) => {
  const emitter = emitterFor(meta.framework)
  const emit = (hookContext: unknown, image: ProcessedImage, file: string): string =>
    emitter.emit(hookContext, { image, originalFileName: displayPath(file, ctx.upscaler.options.root) })
  const ctx: UpscaleContext = new UpscaleContext(rawOptions, emit, emitter.importOriginal)
  const rule = { resourceQuery: ctx.idFilter, type: 'javascript/auto' }
  return {
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
    // webpack and Rspack: `?upscale` modules are JavaScript, so users' image rules do not catch them
    webpack(compiler) {
      ctx.configure({ root: compiler.context })
      compiler.options.module.rules.push(rule)
    },
    rspack(compiler) {
      ctx.configure({ root: compiler.context })
      compiler.options.module.rules.push(rule)
    },
    vite: {
      configResolved(config) {
        const imagetools = config.plugins.find(p => p.name === 'imagetools')
        if (imagetools)
          leaveUpscaleIdsAlone(imagetools)
        ctx.configure({ root: config.root, base: config.base, serve: config.command === 'serve', composeWith: imagetools && 'vite-imagetools' })
      },
      configureServer(server) {
        server.middlewares.use(ctx.devMiddleware())
        ctx.setDevHooks({
          async ready(id) {
            // every environment that loaded it: the browser's, and the SSR one a framework such as
            // Astro renders pages with. Invalidating first also drops the importers' SSR instances.
            // (Vite 5 has one module graph and no environments.)
            const environments = server.environments ? Object.values(server.environments) : [server]
            const graphs = environments as unknown as Reloadable[]
            for (const environment of graphs) {
              const module = environment.moduleGraph.getModuleById(id)
              if (!module)
                continue
              environment.moduleGraph.invalidateModule(module)
              await environment.reloadModule(module)
            }
          },
          failed(error) {
            server.config.logger.error(error.message, { timestamp: true })
            server.ws.send({ type: 'error', err: { message: error.message, stack: '' } })
          },
        })
      },
    },
  }
}

/**
 * vite-imagetools treats any image id with a query as its own, so listed before this plugin it
 * would load `?upscale` ids itself and emit the source unenhanced. Its `load` is wrapped to pass on
 * them; ids with its directives reach it after `resolveId` has pointed them at the enhanced file.
 */
function leaveUpscaleIdsAlone(plugin: { load?: unknown }): void {
  type Load = (this: unknown, id: string, ...rest: unknown[]) => unknown
  const hook = plugin.load as Load | { handler: Load } | undefined
  if (!hook)
    return
  const original = typeof hook === 'function' ? hook : hook.handler
  const handler = function (this: unknown, id: string, ...rest: unknown[]): unknown {
    return UPSCALE_ID.test(id) ? null : original.call(this, id, ...rest)
  }
  if (typeof hook === 'function')
    plugin.load = handler
  else
    hook.handler = handler
}

export const unplugin = /* #__PURE__ */ createUnplugin(unpluginFactory)

export default unplugin
export type { Engine, EnhanceRequest, EnhanceResult, Options, UpscaledImage } from './types'
export { createLocalEngine } from './core/engines/local'
