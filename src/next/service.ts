import type { Upscaler } from '../core/upscaler'
import type { Options, UpscaledImage } from '../types'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { adoptLegacyCache, NAMED_DIR, pruneIfDue } from '../core/cache'
import { UpscaleError } from '../core/errors'
import { resolveOptions } from '../core/options'
import { HELD_MESSAGES } from '../core/pipeline'
import { wantsPlaceholder } from '../core/placeholder'
import { parseUpscaleId, QueryError } from '../core/query'
import { createUpscaler } from '../core/upscaler'

/** What the loader asks for: one `?upscale` resource of one module graph. */
export interface ServiceRequest {
  /** the image file, absolute */
  file: string
  /** the resource query, `?scale=2&upscale` */
  query: string
  /** the module that imports it, for messages */
  importer?: string
}

/** One image of the answer: the file to import (so Next's own image handling emits it) and its metadata. */
export interface ServiceImage {
  /** the readable-name copy in the cache (or, for an image shown unenhanced, the source) */
  path: string
  /** its cache key; none for a source shown unenhanced */
  key?: string
  meta: Omit<UpscaledImage, 'src'>
}

export type ServiceAnswer
  = | { ok: true, images: ServiceImage[], as: string, variants: boolean, enhanced: boolean }
    | { ok: false, message: string }

/**
 * The one upscaler of a Next.js process (cache, locks, budget, summary). webpack runs its loaders in
 * this process; Turbopack runs them in processes of its own, which ask over a private socket. Client,
 * server and edge compilations ask for the same image: it is made once and counted once.
 */
export class NextService {
  readonly socket: string
  readonly root: string
  readonly cacheDir: string
  private upscaler: Upscaler | undefined
  /** the old default cache, moved to the new one when the service started */
  private moved: string | undefined
  private readonly answers = new Map<string, Promise<ServiceAnswer>>()
  private pending = 0
  private idle: NodeJS.Timeout | undefined
  private serving: Promise<void> | undefined
  private dir: string | undefined

  constructor(private readonly options: Options | undefined, private readonly settings: { dev: () => boolean }) {
    this.root = resolve(options?.root ?? process.cwd())
    const resolved = resolveOptions(options, this.root)
    this.cacheDir = resolved.cacheDir
    this.moved = adoptLegacyCache(resolved.cacheDir, resolved.legacyCacheDirs)
    // Turbopack sees only files whose folder it has not listed before they existed: have the
    // folder of the readable copies there from the start
    mkdirSync(join(resolved.cacheDir, NAMED_DIR), { recursive: true })
    this.dir = mkdtempSync(join(tmpdir(), 'upscale-next-'))
    this.socket = join(this.dir, 'service.sock')
  }

  /** Listen on the socket (only the owner can reach its folder); nothing keeps the process alive for it. */
  listen(): Promise<void> {
    this.serving ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        let body = ''
        req.setEncoding('utf8')
        req.on('data', (c: string) => {
          body += c
          if (body.length > 1 << 16)
            req.destroy()
        })
        req.on('end', () => {
          let request: ServiceRequest
          try {
            request = JSON.parse(body)
          }
          catch {
            res.writeHead(400).end()
            return
          }
          void this.handle(request).then((answer) => {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
          })
        })
      })
      server.on('error', reject)
      server.listen(this.socket, () => {
        server.unref()
        resolve()
      })
      process.once('exit', () => this.close())
    })
    return this.serving
  }

  /** At exit: the summary of the build (once, however many compilations asked), and the socket's folder removed. */
  close(): void {
    const { upscaler } = this
    if (upscaler && !this.settings.dev())
      upscaler.report.summary(upscaler.pipeline.remote?.stats)
    if (this.dir)
      rmSync(this.dir, { recursive: true, force: true })
    this.dir = undefined
  }

  handle(request: ServiceRequest): Promise<ServiceAnswer> {
    const id = `${request.file}${request.query}`
    let answer = this.answers.get(id)
    if (!answer) {
      this.pending++
      clearTimeout(this.idle)
      answer = this.enhance(request).finally(() => {
        // a new build (a dev rebuild, another `next build` in the process) asks again
        this.answers.delete(id)
        if (--this.pending === 0)
          this.idle = setTimeout(() => void this.settle(), 1000).unref()
      })
      this.answers.set(id, answer)
    }
    return answer
  }

  private upscalerFor(): Upscaler {
    if (!this.upscaler) {
      this.upscaler = createUpscaler(this.options, { root: this.root })
      if (this.moved)
        this.upscaler.report.info(`[unplugin-upscale] The cache moved from ${this.upscaler.show(this.moved)} to `
          + `${this.upscaler.show(this.cacheDir)} (the default since 0.2: out of node_modules, so \`npm ci\` keeps it).`)
      this.upscaler.startBuild()
    }
    return this.upscaler
  }

  /** Nothing asked for a while: prune the cache (builds only) and close sockets, keeping the counts for the summary. */
  private async settle(): Promise<void> {
    if (this.settings.dev())
      return
    const { upscaler } = this
    if (!upscaler)
      return
    const { pipeline, options } = upscaler
    await upscaler.engine.close?.()
    const { maxAge, maxSize } = options
    const { used, written } = pipeline
    await pruneIfDue(pipeline.cache, { maxAge, maxSize, used, written }).catch(() => undefined)
  }

  private async enhance(request: ServiceRequest): Promise<ServiceAnswer> {
    const upscaler = this.upscalerFor()
    const { report, pipeline, options } = upscaler
    const id = request.file + request.query
    const by = request.importer ? ` (imported by ${upscaler.show(request.importer)})` : ''
    const label = `${upscaler.show(request.file)}${request.query}${by}`
    let parsed
    try {
      parsed = parseUpscaleId(id, options.defaults, options.presetFor)
    }
    catch (error) {
      if (error instanceof QueryError)
        return { ok: false, message: `invalid import ${label}: ${error.message}` }
      throw error
    }
    if (!parsed)
      return { ok: false, message: `${label} has no \`upscale\` marker` }
    const { file, params } = parsed
    const original = async (): Promise<ServiceAnswer> => {
      const image = await pipeline.originalImage(file, params, { placeholder: wantsPlaceholder(params) })
      const images = [{ path: file, meta: image.metadata }]
      return { ok: true, images, as: params.as, variants: Boolean(params.variants), enhanced: false }
    }
    report.imageStarted(id)
    try {
      const shape = { placeholder: wantsPlaceholder(params) }
      const outcome = params.variants
        ? await pipeline.processVariants(file, params, shape)
        : await pipeline.process(file, params, shape).then(o => (o.status === 'done' ? { status: o.status, images: [o.image] } : o))
      if (outcome.status === 'held') {
        report.imageFinished('held', undefined, id)
        if (outcome.reason !== 'dryRun') {
          const advice = outcome.reason === 'offline'
            ? 'Build once with a token (and without UPSCALE_OFFLINE) to fill the cache, or restore the cache directory.'
            : `Raise the \`maxTasks\` option (${options.maxTasks}), or build once with a larger budget to fill the cache.`
          return { ok: false, message: `cannot upscale ${label}: ${HELD_MESSAGES[outcome.reason]}. ${advice}` }
        }
        report.info(`[unplugin-upscale] Dry run: ${label} is not in the cache and would be sent to the API (billable); it is emitted `
          + `unenhanced.`)
        return await original()
      }
      if (outcome.status !== 'done')
        throw new Error('it is not in the cache')
      const images = await Promise.all(outcome.images.map(async image =>
        ({ path: await pipeline.named(image), key: image.key, meta: image.metadata })))
      report.imageFinished(outcome.images[0].cached ? 'cached' : 'enhanced', outcome.images[0].engine, id)
      return { ok: true, images, as: params.as, variants: Boolean(params.variants), enhanced: true }
    }
    catch (error) {
      report.imageFinished('failed', undefined, id)
      const failure = upscaler.failure(label, error)
      if (options.onError === 'original' && !(error instanceof UpscaleError)) {
        const fallback = await original().catch(() => undefined)
        if (fallback) {
          report.warn(`${failure.message}\nIt is emitted unenhanced (onError: 'original'); the next build tries again.`)
          return fallback
        }
      }
      return { ok: false, message: failure.message }
    }
  }
}

const SERVICES = Symbol.for('unplugin-upscale.next.services')

/** The services of this process by socket path, so that a loader running here (webpack) skips the socket. */
export function localServices(): Map<string, NextService> {
  const g = globalThis as { [SERVICES]?: Map<string, NextService> }
  return (g[SERVICES] ??= new Map())
}
