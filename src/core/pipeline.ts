import type { Engine, EnhanceType, OutputFormat, ResolvedOptions, SourceInfo, UpscaledImage, UpscaleParams } from '../types'
import type { CacheEntry } from './cache'
import { readFile } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import { DiskCache, enhancementKey, extensionOf, InFlight, variantKey } from './cache'
import { convert, ImageError, inspect, originalOutputFormat, readOutputMeta } from './image'
import { autoScale } from './query'

export interface ProcessedImage {
  /** the final bytes, as emitted */
  data: Buffer
  /** cache key of the final bytes (names the file the dev server serves) */
  key: string
  /** the final file's extension, without the dot */
  ext: string
  /** a readable asset name, e.g. `hero@4x.jpg`; bundlers add their content hash */
  fileName: string
  metadata: Omit<UpscaledImage, 'src'>
  /** true when the enhancement came from the cache */
  cached: boolean
}

/** What the pipeline tells whoever reports on a build. */
export interface PipelineHooks {
  damaged?: (file: string, why: string) => void
  engineStarted?: (engine: string) => void
  engineFinished?: (engine: string, ok: boolean) => void
}

/** Thrown instead of sending a billable task: offline, in a dry run, or past `maxTasks`. */
export class NotSent extends Error {
  override name = 'NotSent'
  constructor(readonly reason: 'offline' | 'dryRun' | 'maxTasks') {
    super({
      offline: 'it is not in the cache, and offline mode sends nothing to the API',
      dryRun: 'dry run: it is not in the cache and would be sent to the API (billable)',
      maxTasks: 'maxTasks is reached: it would be one more billable task',
    }[reason])
  }
}

/** Thrown by `process(…, { cachedOnly: true })` when the enhancement is not in the cache. */
export class NotCached extends Error {
  override name = 'NotCached'
}

/** Counts billable tasks of one build against `maxTasks`; offline or in a dry run, none is allowed. */
export class Budget {
  used = 0
  constructor(readonly maxTasks: number, readonly dryRun: boolean, readonly offline: boolean) {}

  spend(): void {
    if (this.offline)
      throw new NotSent('offline')
    if (this.dryRun)
      throw new NotSent('dryRun')
    if (this.used >= this.maxTasks)
      throw new NotSent('maxTasks')
    this.used++
  }
}

/**
 * Work in flight, per cache dir, for the whole process: the client and SSR builds of one run have
 * a plugin instance each, and must still pay for a missing image once.
 */
const inFlightByCacheDir = new Map<string, InFlight<CacheEntry>>()

/**
 * read → cache → engine → convert → metadata, for one image at a time. Work in flight is shared in
 * the process; a paid enhancement holds the key's cross-process lock, so parallel builds pay once.
 */
export class Pipeline {
  readonly cache: DiskCache
  readonly budget: Budget
  /** cache keys this build used: pruning never removes them */
  readonly used = new Set<string>()
  /** how many entries this build wrote */
  written = 0
  private readonly reported = new Set<string>()
  private readonly inFlight: InFlight<CacheEntry>

  constructor(options: ResolvedOptions, readonly engine: Engine, private readonly hooks: PipelineHooks = {}) {
    this.cache = new DiskCache(options.cacheDir)
    this.budget = new Budget(options.maxTasks, options.dryRun, options.offline)
    let inFlight = inFlightByCacheDir.get(options.cacheDir)
    if (!inFlight)
      inFlightByCacheDir.set(options.cacheDir, inFlight = new InFlight())
    this.inFlight = inFlight
  }

  /** The final image; with `cachedOnly`, throws NotCached rather than run the engine. */
  async process(file: string, params: UpscaleParams, { cachedOnly = false } = {}): Promise<ProcessedImage> {
    const source = await readSource(file)
    const info = await inspect(source)
    const scale = params.scale === 'auto' ? autoScale(info.width, info.height) : params.scale
    const { entry: enhanced, fresh } = await this.enhanced(file, source, info, scale, params.scale === 'auto', params.type, cachedOnly)

    const target: OutputFormat = params.format === 'original' ? originalOutputFormat(info) : params.format
    const final = target === enhanced.record.format && params.quality === undefined
      ? enhanced
      : await this.converted(file, enhanced, target, params.quality)

    // read by sharp from these very bytes when the entry was written, and checksummed since
    const meta = final.record
    const ext = extensionOf(meta.format)
    return {
      data: final.data,
      key: final.record.key,
      ext,
      fileName: `${basename(file, extname(file))}@${scale}x.${ext}`,
      metadata: {
        width: meta.width,
        height: meta.height,
        format: meta.format,
        originalWidth: info.width,
        originalHeight: info.height,
        scale,
        type: params.type,
      },
      cached: !fresh,
    }
  }

  /** Metadata of the source as it is, for images that were not sent (dry run, maxTasks). */
  async original(file: string, params: UpscaleParams): Promise<ProcessedImage['metadata']> {
    const info = await inspect(await readSource(file))
    return { width: info.width, height: info.height, format: info.format, originalWidth: info.width, originalHeight: info.height, scale: 1, type: params.type }
  }

  /** A trusted entry, or undefined; a damaged one is reported once and then treated as missing. */
  private async read(key: string, file: string): Promise<CacheEntry | undefined> {
    const found = await this.cache.lookup(key)
    if ('entry' in found) {
      if (!this.used.has(key)) {
        this.used.add(key)
        await this.cache.touch(key)
      }
      return found.entry
    }
    if ('corrupt' in found && !this.reported.has(key)) {
      this.reported.add(key)
      this.hooks.damaged?.(file, found.corrupt)
    }
    return undefined
  }

  /** The enhanced entry, from the cache or made now (`fresh`). */
  private async enhanced(file: string, source: Buffer, info: SourceInfo, scale: 1 | 2 | 4, auto: boolean, type: EnhanceType, cachedOnly: boolean): Promise<{ entry: CacheEntry, fresh: boolean }> {
    const key = enhancementKey(source, this.engine, { scale, type })
    const hit = await this.read(key, file)
    if (hit)
      return { entry: hit, fresh: false }
    if (cachedOnly)
      throw new NotCached()
    const entry = await this.inFlight.run(key, async () => {
      const release = await this.cache.lock(key)
      try {
        // another process may have finished it while this one waited for the lock
        const again = await this.read(key, file)
        if (again)
          return again
        if (this.engine.billable)
          this.budget.spend()
        this.hooks.engineStarted?.(this.engine.id)
        let result
        try {
          result = await this.engine.enhance({ file, source, info, scale, auto, type })
        }
        catch (error) {
          this.hooks.engineFinished?.(this.engine.id, false)
          throw error
        }
        this.hooks.engineFinished?.(this.engine.id, true)
        let meta
        try {
          meta = await readOutputMeta(result.data)
        }
        catch (error) {
          throw new ImageError(`the ${this.engine.id} engine returned bytes that are not an image (${(error as Error).message})`)
        }
        const entry = await this.cache.put(key, result.data, {
          ...meta,
          provider: this.engine.id,
          providerVersion: this.engine.version,
          params: { scale, type, source: info },
          provenance: result.provenance,
        })
        this.used.add(key)
        this.written++
        return entry
      }
      finally {
        await release()
      }
    })
    return { entry, fresh: true }
  }

  private async converted(file: string, from: CacheEntry, format: OutputFormat, quality: number | undefined): Promise<CacheEntry> {
    const key = variantKey(from.record.key, format, quality)
    // no lock: a conversion costs nothing, and atomic writes make a race harmless
    return await this.read(key, file) ?? this.inFlight.run(key, async () => {
      const data = await convert(from.data, format, quality)
      const meta = await readOutputMeta(data)
      const entry = await this.cache.put(key, data, {
        ...meta,
        provider: 'sharp',
        providerVersion: 'convert-1',
        params: { from: from.record.key, format, quality },
      })
      this.used.add(key)
      this.written++
      return entry
    })
  }
}

async function readSource(file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  }
  catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ImageError(code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? (error as Error).message})`)
  }
}
