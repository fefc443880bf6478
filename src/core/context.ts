import type { Options, ResolvedOptions, UpscaleParams } from '../types'
import type { ProcessedImage } from './pipeline'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { moduleCode, originalModuleCode } from './codegen'
import { devMiddleware, devUrl } from './dev'
import { createEngine } from './engines'
import { PRUNE_MARKER } from './cache'
import { displayPath, UpscaleError } from './errors'
import { resolveOptions } from './options'
import { NotCached, NotSent, Pipeline } from './pipeline'
import { Reporter } from './report'
import { parseUpscaleId, QueryError, UPSCALE_ID } from './query'

/** The bits of a bundler's plugin context this code uses; `resolve` exists in Rollup and Vite only. */
interface HookContext {
  resolve?: (id: string, importer?: string, options?: { skipSelf?: boolean }) => Promise<{ id: string, external?: boolean | string } | null>
  emitFile: (file: { type: 'asset', name?: string, fileName?: string, originalFileName?: string, source: Uint8Array }) => unknown
  addWatchFile?: (file: string) => void
  getNativeBuildContext?: () => { framework: string, build?: { initialOptions: { publicPath?: string } } }
}

/** Notices already given in this process, however many plugin instances or builds there are. */
const announced = new Set<string>()

/**
 * Everything the hooks do, away from the bundler glue: one instance per plugin instance, holding
 * the resolved options, the pipeline, and which modules import which image.
 */
/** How the dev server learns that a background enhancement finished, or failed. */
export interface DevHooks {
  ready: (id: string) => void | Promise<void>
  failed: (error: Error) => void
}

export function createUpscaleContext(rawOptions: Options | undefined, framework: string) {
  let options: ResolvedOptions = resolveOptions(rawOptions)
  const report = new Reporter(options.logLevel)
  const hooks = report.pipelineHooks(file => displayPath(file, options.root))
  let pipeline = new Pipeline(options, createEngine(options, line => report.debug(line)), hooks)
  let dev: { base: string } | undefined
  let devHooks: DevHooks | undefined
  /** dev: ids whose enhancement runs in the background */
  const enhancing = new Set<string>()
  const importers = new Map<string, Set<string>>()
  /** billable cache misses that were not sent in this build (dry run, maxTasks) */
  let notSent: Array<{ id: string, reason: NotSent['reason'] }> = []

  const describe = (id: string): string => {
    const file = id.slice(0, id.indexOf('?'))
    const by = [...importers.get(id) ?? []].map(i => displayPath(i, options.root))
    return `${displayPath(file, options.root)}${id.slice(file.length)}${by.length ? ` (imported by ${by.join(', ')})` : ''}`
  }

  /** dev: enhance, then have the dev server reload the module (which now finds the cache warm). */
  function enhanceInBackground(id: string, file: string, params: UpscaleParams, failure: (error: unknown) => UpscaleError): void {
    if (enhancing.has(id))
      return
    enhancing.add(id)
    pipeline.process(file, params)
      .then(() => devHooks?.ready(id))
      .catch((error) => {
        if (!(error instanceof NotSent))
          devHooks?.failed(failure(error))
      })
      .finally(() => enhancing.delete(id))
  }

  function queryError(error: unknown, id: string): never {
    if (error instanceof QueryError)
      throw new UpscaleError(`invalid import ${describe(id)}: ${error.message}`)
    throw error
  }

  return {
    idFilter: UPSCALE_ID,

    /** Bundlers tell their root (and Vite its base and command) only once they are configured. */
    configure(config: { root: string, base?: string, serve?: boolean }) {
      if (resolve(config.root, rawOptions?.root ?? '.') !== options.root) {
        options = resolveOptions(rawOptions, config.root)
        pipeline = new Pipeline(options, pipeline.engine, hooks)
      }
      dev = config.serve ? { base: config.base ?? '/' } : undefined
    },

    buildStart() {
      const notice = '[unplugin-upscale] No API token (UPSCALE_API_TOKEN) is configured: images are enhanced with the built-in local engine.'
      if (options.providerFallback && !options.engine && !announced.has(notice)) {
        announced.add(notice)
        report.info(notice)
      }
      report.reset()
      pipeline.budget.used = 0
      pipeline.used.clear()
      pipeline.written = 0
      notSent = []
    },

    /** Report what was held back (offline, dry run, maxTasks), prune the cache, close sockets. */
    async buildEnd() {
      await pipeline.engine.close?.()
      if (!dev) {
        await pruneCache(pipeline, options)
        report.summary()
      }
      if (notSent.length === 0)
        return
      const held = notSent
      notSent = []
      const list = (reason: NotSent['reason']): string => held.filter(n => n.reason === reason).map(n => `  - ${describe(n.id)}`).sort().join('\n')
      const count = (reason: NotSent['reason']): string => {
        const n = held.filter(h => h.reason === reason).length
        return `${n} image${n === 1 ? '' : 's'}`
      }
      if (held.some(n => n.reason === 'offline'))
        throw new UpscaleError(`Offline, and ${count('offline')} not in the cache:\n${list('offline')}\nBuild once with a token (and without UPSCALE_OFFLINE) to fill the cache, or restore the cache directory (${displayPath(options.cacheDir, options.root)}).`)
      if (held.some(n => n.reason === 'maxTasks'))
        throw new UpscaleError(`maxTasks is ${options.maxTasks}, and this build needs more: ${count('maxTasks')} not in the cache would have been sent beyond it:\n${list('maxTasks')}\nRaise maxTasks, or build once with a larger budget to fill the cache.`)
      report.info(`[unplugin-upscale] Dry run: ${count('dryRun')} not in the cache would be sent to the API (billable), and were emitted unenhanced:\n${list('dryRun')}`)
    },

    /** Resolve the file part, keep the query, and remember the importer for messages. */
    async resolveId(ctx: unknown, id: string, importer: string | undefined): Promise<string | null> {
      const q = id.indexOf('?')
      const file = id.slice(0, q)
      let resolved: string | undefined
      const { resolve: bundlerResolve } = ctx as HookContext
      if (typeof bundlerResolve === 'function') {
        const r = await bundlerResolve.call(ctx, file, importer, { skipSelf: true })
        if (r && !r.external)
          resolved = r.id.split('?')[0]
      }
      if (!resolved && (file.startsWith('.') || isAbsolute(file)))
        resolved = importer && file.startsWith('.') ? resolve(dirname(importer), file) : resolve(options.root, file)
      if (!resolved)
        return null
      const full = resolved + id.slice(q)
      if (importer) {
        const set = importers.get(full) ?? new Set()
        importers.set(full, set.add(importer.split('?')[0]))
      }
      try {
        parseUpscaleId(full, options.defaults)
      }
      catch (error) {
        queryError(error, full)
      }
      return full
    },

    async load(ctx: unknown, id: string): Promise<string | null> {
      let request
      try {
        request = parseUpscaleId(id, options.defaults)
      }
      catch (error) {
        queryError(error, id)
      }
      if (!request || !options.filter(request.file))
        return null
      ;(ctx as HookContext).addWatchFile?.(request.file)
      const { file, params } = request
      // the API engine has already taken the token out of its messages
      const failure = (error: unknown): UpscaleError => new UpscaleError(`cannot upscale ${describe(id)}: ${(error as Error).message}`)

      let image: ProcessedImage
      report.imageStarted(id)
      try {
        // the dev server never makes a page wait: a miss is served as the original meanwhile
        image = await pipeline.process(file, params, { cachedOnly: dev !== undefined })
        report.imageFinished(image.cached ? 'cached' : 'enhanced')
      }
      catch (error) {
        if (!(error instanceof NotCached))
          report.imageFinished(error instanceof NotSent ? 'held' : 'failed')
        if (error instanceof NotCached) {
          enhanceInBackground(id, file, params, failure)
          return originalModuleCode(file, await pipeline.original(file, params), params.as)
        }
        if (error instanceof NotSent) {
          notSent.push({ id, reason: error.reason })
          return originalModuleCode(file, await pipeline.original(file, params), params.as)
        }
        if (options.onError === 'original' && !(error instanceof UpscaleError)) {
          const original = await pipeline.original(file, params).catch(() => undefined)
          if (original) {
            report.warn(`${failure(error).message}\nIt is emitted unenhanced (onError: 'original'); the next build tries again.`)
            return originalModuleCode(file, original, params.as)
          }
        }
        throw failure(error)
      }
      if (dev)
        return moduleCode(JSON.stringify(devUrl(dev.base, image.key, image.ext)), image.metadata, params.as)
      return moduleCode(emitAsset(ctx as HookContext, framework, image, file, options.root), image.metadata, params.as)
    },

    devMiddleware() {
      return devMiddleware(pipeline.cache)
    },

    setDevHooks(hooks: DevHooks) {
      devHooks = hooks
    },
  }
}

const PRUNE_EVERY = 3_600_000

/**
 * Drop entries unused for `maxAge` or beyond `maxSize`. A scan stats every file (about a second
 * for ten thousand entries), so a build skips it when the last prune was within the hour with the
 * same settings, unless it wrote entries that a `maxSize` may now have no room for.
 */
async function pruneCache(pipeline: Pipeline, options: ResolvedOptions): Promise<void> {
  // a build that used no entry (it failed, or imports no image) leaves the cache alone
  if (pipeline.used.size === 0 || (options.maxAge === Infinity && options.maxSize === Infinity))
    return
  const settings = `${options.maxAge}/${options.maxSize}`
  const marker = join(options.cacheDir, PRUNE_MARKER)
  const last = await readFile(marker, 'utf8').then(text => JSON.parse(text) as { at: number, settings: string }, () => undefined)
  const sizeAtRisk = options.maxSize !== Infinity && pipeline.written > 0
  if (last?.settings === settings && Date.now() - last.at < PRUNE_EVERY && !sizeAtRisk)
    return
  await pipeline.cache.prune({ maxAge: options.maxAge, maxSize: options.maxSize, keep: pipeline.used })
  await writeFile(marker, JSON.stringify({ at: Date.now(), settings })).catch(() => {})
}

/**
 * Emit the image as an asset and return the JS expression of its URL, in each bundler's terms:
 * Rollup and Vite name and place it (assetFileNames, assetsDir, base); webpack and Rspack prefix the public
 * path at run time; esbuild takes `publicPath` like its file loader does.
 */
function emitAsset(ctx: HookContext, framework: string, image: ProcessedImage, file: string, root: string): string {
  if (framework === 'vite' || framework === 'rollup' || framework === 'rolldown') {
    const ref = ctx.emitFile({ type: 'asset', name: image.fileName, originalFileName: displayPath(file, root), source: image.data })
    // Vite replaces its own placeholder with a URL from `base` in client and SSR builds alike, in
    // every version; a file-URL reference would become a file:// URL in the SSR build of Vite < 7
    return framework === 'vite' ? JSON.stringify(`__VITE_ASSET__${ref}__`) : `import.meta.ROLLUP_FILE_URL_${ref}`
  }
  const fileName = `assets/${hashedName(image)}`
  ctx.emitFile({ type: 'asset', fileName, source: image.data })
  if (framework === 'webpack' || framework === 'rspack')
    return `__webpack_public_path__ + ${JSON.stringify(fileName)}`
  if (framework === 'esbuild') {
    const publicPath = ctx.getNativeBuildContext?.().build?.initialOptions.publicPath
    return JSON.stringify(publicPath ? `${publicPath.replace(/\/+$/, '')}/${fileName}` : `./${fileName}`)
  }
  throw new UpscaleError(`${framework} is not supported; use Vite, Rollup, webpack, esbuild or Rspack`)
}

/** `bird@4x.png` → `bird@4x-1a2b3c4d.png`, by content, so a changed image gets a new URL. */
function hashedName(image: ProcessedImage): string {
  const hash = createHash('sha256').update(image.data).digest('hex').slice(0, 8)
  const dot = image.fileName.lastIndexOf('.')
  return `${image.fileName.slice(0, dot)}-${hash}${image.fileName.slice(dot)}`
}
