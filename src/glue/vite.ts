import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResolvedConfig, ViteDevServer } from 'vite'
import type { UpscaleContext } from '../core/context'
import type { ProcessedImage } from '../core/pipeline'
import type { Emitter } from '../emit'
import type { ViteAssetConfig } from '../emit/vite'
import { existsSync } from 'node:fs'
import { join, posix } from 'node:path'
import { displayPath } from '../core/errors'
import { cssUrls, htmlUrls, replaceAll } from '../core/markup'
import { UPSCALE_ID } from '../core/query'
import { assetFileName } from '../emit/vite'

/** What a Vite dev environment (or Vite 5's dev server) offers to reload a module. */
interface Reloadable {
  moduleGraph: { getModuleById: (id: string) => object | undefined, invalidateModule: (module: object) => void }
  reloadModule: (module: object) => Promise<void>
}

/**
 * A `?upscale` request for a file Vite would not serve (outside `server.fs.allow`, in
 * `server.fs.deny`, `/@fs/` beyond the allowed roots) gets Vite's own answer, a 403, before the
 * plugin reads, uploads or pays for anything: a query must not widen what the dev server serves.
 */
function fileRules(server: ViteDevServer) {
  let allowed: ((file: string, server: ViteDevServer) => boolean) | undefined
  return async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    const url = req.url ?? ''
    if (!UPSCALE_ID.test(url))
      return next()
    const { base, root } = server.config
    let path: string
    try {
      path = decodeURIComponent(url.slice(0, url.indexOf('?')))
    }
    catch {
      res.statusCode = 400
      res.end()
      return
    }
    const within = path.startsWith(base) ? `/${path.slice(base.length)}` : path
    const file = within.startsWith('/@fs/') ? within.slice('/@fs'.length) : posix.join(root, within)
    allowed ??= ((await import('vite')) as unknown as { isFileServingAllowed: typeof allowed }).isFileServingAllowed
    if (allowed!(file, server))
      return next()
    res.statusCode = 403
    res.end(`The request url "${path}" is outside of Vite serving allow list.`)
  }
}

/** The placeholder a page's `?upscale` URL stands as until the bundle has the file (see `html`). */
const PLACEHOLDER = /data:,upscale-asset-(\d+)/g

/**
 * The Vite side of the plugin: configuration, the dev server, vite-imagetools, and `?upscale` URLs
 * in stylesheets (`url()`) and pages (`src`, `srcset`), which are no imports and which Vite would
 * otherwise copy as the unenhanced source.
 */
export function viteHooks(ctx: UpscaleContext, emitter: Emitter & { configure?: (config: ViteAssetConfig) => void }) {
  let config: ResolvedConfig
  /** build: the enhanced images of pages, emitted in generateBundle, put in the page after */
  const pageImages: Array<{ image: ProcessedImage, file: string, fileName?: string }> = []

  /** The URL a stylesheet or page refers to for a `?upscale` URL; undefined leaves it as written. */
  async function urlFor(
    hookContext: unknown,
    url: string,
    importer: string,
    reload: string | 'page',
    kind: 'css' | 'html',
  ): Promise<string | undefined> {
    const found = await ctx.reference(hookContext, url, importer, reload)
    if (!found)
      return undefined
    switch (found.kind) {
      case 'dev': return found.url
      // the source, as Vite handles any image: the URL as written, without the query
      case 'source': return url.slice(0, url.indexOf('?'))
      case 'image': {
        if (kind === 'css') {
          // Vite puts the asset's URL for its placeholder in CSS as it does in JS
          const originalFileName = displayPath(found.file, config.root)
          return JSON.parse(emitter.emit(hookContext, { image: found.image, originalFileName }))
        }
        pageImages.push({ image: found.image, file: found.file })
        return `data:,upscale-asset-${pageImages.length - 1}`
      }
    }
  }

  return {
    /**
     * SvelteKit renders its pages itself and warns of every plugin with a `transformIndexHtml`
     * hook (it would never run there): under SvelteKit this plugin has none.
     */
    async config(user: { plugins?: unknown[] }) {
      const plugins = await flatPlugins(user.plugins)
      if (plugins.some(p => p.name?.startsWith('vite-plugin-sveltekit'))) {
        for (const own of plugins.filter(p => p.name === 'unplugin-upscale'))
          delete own.transformIndexHtml
      }
    },

    configResolved(resolved: ResolvedConfig) {
      config = resolved
      const output = [resolved.build.rollupOptions?.output].flat()[0]
      const assetFileNames = output?.assetFileNames as ViteAssetConfig['assetFileNames']
      emitter.configure?.({ assetsDir: resolved.build.assetsDir, assetFileNames })
      const imagetools = resolved.plugins.find(p => p.name === 'imagetools')
      if (imagetools)
        leaveUpscaleIdsAlone(imagetools)
      const serve = resolved.command === 'serve'
      // a generateBundle hook costs a build a copy of its whole bundle into JavaScript (every asset's
      // bytes included, about 0.7 ms an image): the pages' hook stays only where Vite builds pages
      if (!serve && !buildsPages(resolved)) {
        for (const plugin of resolved.plugins.filter(p => p.name === 'unplugin-upscale:pages'))
          delete (plugin as { generateBundle?: unknown }).generateBundle
      }
      ctx.configure({ root: resolved.root, base: resolved.base, serve, composeWith: imagetools && 'vite-imagetools' })
    },

    configureServer(server: ViteDevServer) {
      server.middlewares.use(fileRules(server))
      server.middlewares.use(ctx.devMiddleware())
      ctx.setDevHooks({
        async ready(id) {
          // every environment that loaded it: the browser's, and the SSR one a framework such as
          // Astro renders pages with. Invalidating first also drops the importers' SSR instances.
          // (Vite 5 has one module graph and no environments.)
          const environments = server.environments ? Object.values(server.environments) : [server]
          for (const environment of environments as unknown as Reloadable[]) {
            const module = environment.moduleGraph.getModuleById(id)
            if (!module)
              continue
            environment.moduleGraph.invalidateModule(module)
            await environment.reloadModule(module)
          }
        },
        reloadPage() {
          server.ws.send({ type: 'full-reload' })
        },
        failed(error) {
          server.config.logger.error(error.message, { timestamp: true })
          server.ws.send({ type: 'error', err: { message: error.message, stack: '' } })
        },
      })
    },

    /** `url(./a.png?upscale)` in any stylesheet Vite handles: plain, modules, preprocessed. */
    async transformStyle(hookContext: unknown, code: string, id: string): Promise<string | undefined> {
      const found = cssUrls(code)
      if (found.length === 0)
        return undefined
      const file = id.split('?')[0]
      const urls = await Promise.all(found.map(async f => await urlFor(hookContext, f.url, file, id, 'css') ?? f.url))
      return replaceAll(code, found, urls)
    },

    transformIndexHtml: {
      order: 'pre' as const,
      async handler(html: string, { filename }: { filename: string }) {
        const found = htmlUrls(html)
        if (found.length === 0)
          return html
        const urls = await Promise.all(found.map(async f => await urlFor({}, f.url, filename, 'page', 'html') ?? f.url))
        return replaceAll(html, found, urls)
      },
    },

    /**
     * build, after Vite has written the pages into the bundle: the pages' enhanced images go in
     * under their asset names, and each placeholder becomes the asset's URL (from `base`, or
     * relative to the page when `base` is relative).
     */
    finishPages(
      emitFile: (file: { type: 'asset', fileName: string, source: Uint8Array }) => unknown,
      bundle: Record<string, { type: string, fileName: string, source?: string | Uint8Array }>,
    ): void {
      if (pageImages.length === 0)
        return
      const output = [config.build.rollupOptions?.output].flat()[0]
      const assets = { assetsDir: config.build.assetsDir, assetFileNames: output?.assetFileNames as ViteAssetConfig['assetFileNames'] }
      for (const entry of pageImages) {
        const { image } = entry
        entry.fileName ??= assetFileName(assets, image, displayPath(entry.file, config.root))
        emitFile({ type: 'asset', fileName: entry.fileName, source: entry.image.data })
      }
      for (const page of Object.values(bundle)) {
        if (page.type !== 'asset' || !page.fileName.endsWith('.html') || typeof page.source !== 'string')
          continue
        page.source = page.source.replace(PLACEHOLDER, (_, n: string) => {
          const { fileName } = pageImages[Number(n)]
          const base = config.base
          if (base === '' || base.startsWith('.'))
            return posix.relative(posix.dirname(`/${page.fileName}`), `/${fileName}`)
          return `${base.endsWith('/') ? base : `${base}/`}${fileName}`
        })
      }
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

/** A Vite config's `plugins`, with their arrays and promises undone, as Vite itself reads them. */
/** Whether Vite's build takes HTML pages in (its `index.html` by default; an input ending in `.html`). */
function buildsPages(config: ResolvedConfig): boolean {
  const build = config.build as ResolvedConfig['build'] & { rolldownOptions?: { input?: unknown } }
  const input = build.rolldownOptions?.input ?? build.rollupOptions?.input
  if (input === undefined)
    return !build.lib && !build.ssr && existsSync(join(config.root, 'index.html'))
  const entries = typeof input === 'string' ? [input] : Array.isArray(input) ? input : Object.values(input as object)
  return entries.some(entry => typeof entry === 'string' && /\.html?$/i.test(entry))
}

async function flatPlugins(list: unknown): Promise<Array<{ name?: string, transformIndexHtml?: unknown }>> {
  const value = await list
  if (Array.isArray(value))
    return (await Promise.all(value.map(flatPlugins))).flat()
  return value && typeof value === 'object' ? [value as { name?: string }] : []
}
