import type { Options, UpscaleParams } from '../types'
import type { ComposedQuery, ComposedTarget } from './compose'
import type { DevHooks, EmitImage, OriginalImport, Reference, ResolveContext } from './hooks'
import type { ProcessedImage } from './pipeline'
import type { Upscaler } from './upscaler'
import { dirname, isAbsolute, resolve } from 'node:path'
import { moduleCode } from './codegen'
import { composedModuleCode, loadComposed, splitComposed } from './compose'
import { devMiddleware, devUrl } from './dev'
import { UpscaleError } from './errors'
import { Importers } from './importers'
import { wantsPlaceholder } from './placeholder'
import { parseUpscaleId, QueryError, UPSCALE_ID } from './query'
import { createUpscaler } from './upscaler'

/**
 * The bodies of the plugin's hooks, away from the bundler glue: one instance per plugin instance,
 * holding its upscaler, the dev-server state, and which modules import which image.
 */
export class UpscaleContext {
  readonly idFilter = UPSCALE_ID
  readonly upscaler: Upscaler
  private dev: { base: string, hooks?: DevHooks } | undefined
  /** dev: ids whose enhancement runs in the background */
  private readonly enhancing = new Set<string>()
  /** who imports what: for messages, and the imports the dev server may pay for */
  private readonly importers: Importers
  /** dev: how to make each image the dev server serves again, by cache key */
  private readonly devImages = new Map<string, () => Promise<unknown>>()
  /** dev: ids whose background enhancement finished; their next load counts as enhanced, not cached */
  private readonly freshInDev = new Set<string>()
  /** another image plugin that takes the query's other directives (vite-imagetools), by name */
  private composeWith: string | undefined

  constructor(
    rawOptions: Options | undefined,
    private readonly emit: EmitImage,
    private readonly importOriginal?: OriginalImport,
  ) {
    this.upscaler = createUpscaler(rawOptions)
    this.importers = new Importers(file => this.upscaler.show(file))
  }

  /** Bundlers tell their root (and Vite its base and command) only once they are configured. */
  configure(config: { root: string, base?: string, serve?: boolean, composeWith?: string }): void {
    const { root, base, serve, composeWith } = config
    this.upscaler.setRoot(root)
    this.composeWith = composeWith
    this.dev = serve ? { base: base ?? '/', hooks: this.dev?.hooks } : undefined
  }

  setDevHooks(hooks: DevHooks): void {
    this.dev = { base: this.dev?.base ?? '/', hooks }
  }

  devMiddleware() {
    return devMiddleware(() => this.upscaler.pipeline.cache, async (key) => {
      // a cache emptied while the server runs (the README's "clear it"): make the image again
      await this.devImages.get(key)?.()
    })
  }

  buildStart(): void {
    this.upscaler.startBuild({ build: !this.dev })
  }

  /** Report what was held back (offline, dry run, maxTasks), prune the cache, close sockets. */
  buildEnd(): Promise<void> {
    return this.upscaler.endBuild({ prune: !this.dev })
  }

  /** Resolve the file part, keep the query, and remember the importer for messages. */
  async resolveId(hookContext: unknown, id: string, importer: string | undefined): Promise<string | null> {
    const { options } = this.upscaler
    const q = id.indexOf('?')
    const file = id.slice(0, q)
    let resolved: string | undefined
    const { resolve: bundlerResolve } = hookContext as ResolveContext
    if (typeof bundlerResolve === 'function') {
      const r = await bundlerResolve.call(hookContext, file, importer, { skipSelf: true })
      if (r && !r.external)
        resolved = r.id.split('?')[0]
    }
    if (!resolved && (file.startsWith('.') || isAbsolute(file)))
      resolved = importer && file.startsWith('.') ? resolve(dirname(importer), file) : resolve(options.root, file)
    if (!resolved)
      return null
    const full = resolved + id.slice(q)
    // a request straight from a client has no importer, or (Vite 6+) the root's index.html as one;
    // a page's own `?upscale` URLs are recorded by `reference`
    if (importer && !/\.html?$/.test(importer))
      this.importers.remember(full, importer)
    const composed = this.composedQuery(full)
    if (composed && !composed.shape)
      return (await this.composed(hookContext, full, composed)).target
    // a shape of ours around the other plugin's files is made in `load`
    if (!composed)
      this.parse(full)
    return full
  }

  async load(hookContext: unknown, id: string): Promise<string | null> {
    const composed = this.composedQuery(id)
    if (composed?.shape) {
      const { target, fixed } = await this.composed(hookContext, id, composed)
      return composedModuleCode(target, composed.shape, composed.several, fixed)
    }
    const request = this.parse(id)
    const { upscaler } = this
    if (!request || !upscaler.options.filter(request.file))
      return null
    ;(hookContext as ResolveContext).addWatchFile?.(request.file)
    const { file, params } = request
    // the unenhanced image, still a URL string: imported as one where the bundler can, else emitted
    const original = async (): Promise<string> => {
      const image = await upscaler.pipeline.originalImage(file, params, { placeholder: wantsPlaceholder(params) })
      if (this.importOriginal) {
        const prelude = [`import original from ${JSON.stringify(this.importOriginal(file))};`]
        return moduleCode([{ src: 'original', meta: image.metadata }], params, prelude)
      }
      return moduleCode([{ src: this.emit(hookContext, image, file), meta: image.metadata }], params)
    }

    upscaler.report.imageStarted(id)
    let outcome
    try {
      // the dev server never makes a page wait: a miss is served as the original meanwhile
      const options = { cachedOnly: this.dev !== undefined, placeholder: wantsPlaceholder(params) }
      outcome = params.variants
        ? await upscaler.pipeline.processVariants(file, params, options)
        : await upscaler.pipeline.process(file, params, options)
            .then(o => (o.status === 'done' ? { status: o.status, images: [o.image] } : o))
    }
    catch (error) {
      upscaler.report.imageFinished('failed', undefined, id)
      // the API engine has already taken the token out of its messages
      const failure = upscaler.failure(this.importers.describe(id), error)
      if (upscaler.options.onError === 'original' && !(error instanceof UpscaleError)) {
        const code = await original().catch(() => undefined)
        if (code) {
          upscaler.report.warn(`${failure.message}\nIt is emitted unenhanced (onError: 'original'); the next build tries again.`)
          return code
        }
      }
      throw failure
    }
    switch (outcome.status) {
      case 'notCached':
        // the dev server pays only for what the app's own modules import, not for any query a
        // client makes up: a request no module led to gets the original, and nothing is sent
        if (this.importers.has(id))
          this.enhanceInBackground(id, file, params)
        return original()
      case 'held':
        upscaler.report.imageFinished('held', undefined, id)
        upscaler.hold(this.importers.describe(id), outcome.reason)
        return original()
      case 'done': {
        const { images } = outcome
        upscaler.report.imageFinished(this.finishedAs(id, images[0]), images[0].engine, id)
        if (this.dev) {
          const { pipeline } = upscaler
          const again = (): Promise<unknown> =>
            (params.variants ? pipeline.processVariants(file, params) : pipeline.process(file, params))
          for (const image of images)
            this.devImages.set(image.key, again)
        }
        return moduleCode(images.map(image => ({
          src: this.dev
            ? JSON.stringify(devUrl(this.dev.base, image.key, image.ext))
            : this.emit(hookContext, image, file),
          meta: image.metadata,
        })), params)
      }
    }
  }

  /** `?upscale` with another image plugin's directives: see loadComposed. */
  private composed(hookContext: unknown, id: string, query: ComposedQuery): Promise<ComposedTarget> {
    const { file, params } = this.parse(query.ours)!
    ;(hookContext as ResolveContext).addWatchFile?.(file)
    const label = (): string => this.importers.describe(id)
    return loadComposed(this.upscaler, { id, file, params, query, label, other: this.composeWith! })
  }

  /** The other plugin's and this plugin's parts of an id, when another image plugin takes part. */
  private composedQuery(id: string): ComposedQuery | undefined {
    if (!this.composeWith)
      return undefined
    try {
      return splitComposed(id)
    }
    catch (error) {
      if (error instanceof QueryError)
        throw new UpscaleError(`invalid import ${this.importers.describe(id)}: ${error.message}`)
      throw error
    }
  }

  /**
   * A `?upscale` URL that is no import: a stylesheet's `url()`, a page's `src` or `srcset`. It gives
   * one image: the enhanced one (`image`), in dev its cache URL (`dev`), or, when it is not enhanced
   * (a dev-server miss, held back, failed with `onError: 'original'`), the source (`source`); a dev
   * miss is enhanced in the background and `reload` (the stylesheet's id, or the page) reloaded.
   * Returns undefined for images the `include`/`exclude` options leave alone.
   */
  async reference(hookContext: unknown, url: string, importer: string, reload: string | 'page'): Promise<Reference | undefined> {
    const full = await this.resolveId(hookContext, url.replaceAll('&amp;', '&'), importer)
    if (!full)
      throw new UpscaleError(`cannot resolve ${url} in ${this.upscaler.show(importer)}`)
    this.importers.remember(full, importer)
    const request = this.parse(full, true)!
    const { upscaler } = this
    if (!upscaler.options.filter(request.file))
      return undefined
    const { file, params } = request
    if (params.variants || params.as !== 'url')
      throw new UpscaleError(`${url} in ${upscaler.show(importer)}: a stylesheet or a page takes one image URL; \`w\`, format lists and `
        + `\`as\` are for imports`)
    ;(hookContext as ResolveContext).addWatchFile?.(file)
    upscaler.report.imageStarted(full)
    let outcome
    try {
      outcome = await upscaler.pipeline.process(file, params, { cachedOnly: this.dev !== undefined })
    }
    catch (error) {
      upscaler.report.imageFinished('failed', undefined, full)
      const failure = upscaler.failure(this.importers.describe(full), error)
      if (upscaler.options.onError !== 'original' || error instanceof UpscaleError)
        throw failure
      upscaler.report.warn(`${failure.message}\nIt is used unenhanced (onError: 'original'); the next build tries again.`)
      return { kind: 'source', file }
    }
    if (outcome.status === 'notCached') {
      this.enhanceInBackground(full, file, params, reload)
      return { kind: 'source', file }
    }
    if (outcome.status === 'held') {
      upscaler.report.imageFinished('held', undefined, full)
      upscaler.hold(this.importers.describe(full), outcome.reason)
      return { kind: 'source', file }
    }
    const { image } = outcome
    upscaler.report.imageFinished(this.finishedAs(full, image), image.engine, full)
    if (this.dev) {
      this.devImages.set(image.key, () => upscaler.pipeline.process(file, params))
      return { kind: 'dev', url: devUrl(this.dev.base, image.key, image.ext) }
    }
    return { kind: 'image', image, file }
  }

  /** How an image that is done counts: enhanced when made now, or in the background for this id. */
  private finishedAs(id: string, image: ProcessedImage): 'cached' | 'enhanced' {
    return this.freshInDev.delete(id) || !image.cached ? 'enhanced' : 'cached'
  }

  /** `single`: a stylesheet's or a page's URL, which a preset's widths or shape do not apply to */
  private parse(id: string, single = false): ReturnType<typeof parseUpscaleId> {
    const { defaults, presetFor } = this.upscaler.options
    try {
      return parseUpscaleId(id, defaults, presetFor, { single })
    }
    catch (error) {
      if (error instanceof QueryError)
        throw new UpscaleError(`invalid import ${this.importers.describe(id)}: ${error.message}`)
      throw error
    }
  }

  /** dev: enhance, then have the dev server reload the module (which now finds the cache warm). */
  private enhanceInBackground(id: string, file: string, params: UpscaleParams, reload: string | 'page' = id): void {
    if (this.enhancing.has(id))
      return
    this.enhancing.add(id)
    const hooks = (): DevHooks | undefined => this.dev?.hooks
    this.upscaler.pipeline.process(file, params)
      .then(async (outcome) => {
        if (outcome.status !== 'done')
          return
        this.freshInDev.add(id)
        if (reload === 'page')
          hooks()?.reloadPage()
        else
          await hooks()?.ready(reload)
      })
      .catch(error => hooks()?.failed(this.upscaler.failure(this.importers.describe(id), error)))
      .finally(() => this.enhancing.delete(id))
  }
}
