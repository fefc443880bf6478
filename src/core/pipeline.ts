import type {
  Engine,
  EnhanceRequest,
  OutputFormat,
  ResolvedOptions,
  ScaleFactor,
  SourceInfo,
  TaskHooks,
  UpscaledImage,
  UpscaleParams,
} from '../types'
import type { CacheEntry, InFlight, JournaledTask } from './cache'
import { constants, statSync } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { basename, dirname, extname } from 'node:path'
import {
  clearJournal,
  DiskCache,
  enhancementKey,
  ensureDir,
  extensionOf,
  readJournal,
  variantKey,
  writeAtomic,
  writeJournal,
} from './cache'
import { sealOf, sha256 } from './cache/record'
import { packEntry, RemoteCache, unpackEntry } from './cache/remote'
import { checkImage, convert, ImageError, inspect, isScaleOf, originalOutputFormat, readOutputMeta } from './image'
import { makePlaceholder, type Placeholder, PLACEHOLDER_VERSION, placeholderFields } from './placeholder'
import { autoScale } from './query'
import { READ_AT_ONCE_BYTES, readFileAtOnce } from './read-file'
import { inFlightFor } from './state'

export interface ProcessedImage {
  /** the final bytes, as emitted */
  data: Buffer
  /** cache key of the final bytes (names the file the dev server serves) */
  key: string
  /** SHA-256 of `data`, hex: from the cache record (checked against the bytes), for content-hashed names */
  sha256: string
  /** the final file's extension, without the dot */
  ext: string
  /** a readable asset name, e.g. `hero@4x.jpg`; bundlers add their content hash */
  fileName: string
  metadata: Omit<UpscaledImage, 'src'>
  /** true when the enhancement came from the cache */
  cached: boolean
  /** the engine that made it (the provider in its cache record) */
  engine: string
}

/** Why a billable image was not sent: offline, a dry run, or past `maxTasks`. */
export type HeldReason = 'offline' | 'dryRun' | 'maxTasks'

export const HELD_MESSAGES: Record<HeldReason, string> = {
  offline: 'it is not in the cache, and offline mode sends nothing to the API',
  dryRun: 'dry run: it is not in the cache and would be sent to the API (billable)',
  maxTasks: 'maxTasks is reached: it would be one more billable task',
}

/**
 * What `process` comes back with. Only failures are exceptions; an image that is not cached (when
 * only the cache may be read) or that was held back is an outcome the caller switches on.
 */
export type Outcome
  = | { status: 'done', image: ProcessedImage }
    | { status: 'notCached' }
    | { status: 'held', reason: HeldReason }

export interface ProcessOptions {
  /** read the cache only: `notCached` rather than run the engine */
  cachedOnly?: boolean
  /** the source's bytes, when the caller has them (the JS API takes bytes); `file` then only names them */
  source?: Buffer
  /** a remote source's URL, sent to the API as `image_url` instead of an upload */
  sourceUrl?: string
  /** add a placeholder (blurDataURL, blurWidth, blurHeight, dominantColor) to the metadata, cached with the image */
  placeholder?: boolean
}

/** What the pipeline tells whoever reports on a build. */
export interface PipelineHooks {
  damaged?: (file: string, why: string) => void
  engineStarted?: (engine: string) => void
  engineFinished?: (engine: string) => void
  /** a billable task was submitted */
  taskSubmitted?: () => void
  /** something the user should know that is no failure (a task submitted again, a journal not written) */
  warn?: (message: string) => void
}

/** The cache could not be written: a setup problem, never a reason to emit the original. */
export class CacheWriteError extends Error {
  override name = 'CacheWriteError'
}

/** Counts billable tasks of one build against `maxTasks`; offline or in a dry run, none is allowed. */
export class Budget {
  used = 0
  constructor(readonly maxTasks: number, readonly dryRun: boolean, readonly offline: boolean) {}

  /** Take one task, or say why not. */
  spend(): HeldReason | undefined {
    if (this.offline)
      return 'offline'
    if (this.dryRun)
      return 'dryRun'
    if (this.used >= this.maxTasks)
      return 'maxTasks'
    this.used++
    return undefined
  }
}

/** An enhancement's cache key, and its entry when the cache had one. */
interface Looked { key: string, hit: CacheEntry | undefined }

type Enhanced = { entry: CacheEntry, fresh: boolean } | { held: HeldReason } | { notCached: true }

/** The enhanced entry with what the source said about itself, or why there is none. */
type Base
  = | { status: 'done', entry: CacheEntry, fresh: boolean, info: SourceInfo, scale: ScaleFactor }
    | Exclude<Outcome, { status: 'done' }>

/** What `processVariants` comes back with: every variant, or why there is none. */
export type VariantsOutcome = { status: 'done', images: ProcessedImage[] } | Exclude<Outcome, { status: 'done' }>

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
  private readonly inFlight: InFlight<CacheEntry | HeldReason>

  private readonly maxOutputPixels: number

  /** the shared tier behind the disk cache, when configured: one per build (its breaker too) */
  remote: RemoteCache | undefined
  /** keys this build took from the remote tier: they count as cached, not made */
  private readonly fromRemote = new Set<string>()

  constructor(
    private readonly options: ResolvedOptions,
    readonly engine: Engine,
    private readonly hooks: PipelineHooks = {},
  ) {
    this.maxOutputPixels = options.maxOutputPixels
    this.cache = new DiskCache(options.cacheDir)
    this.budget = new Budget(options.maxTasks, options.dryRun, options.offline)
    this.inFlight = inFlightFor(options.cacheDir)
    this.reset()
  }

  /** Forget what the last build used and spent. */
  reset(): void {
    this.budget.used = 0
    this.used.clear()
    this.written = 0
    this.fromRemote.clear()
    const { remoteCache } = this.options
    this.remote = remoteCache && new RemoteCache(remoteCache, message => this.hooks.warn?.(message.replace(/^\[unplugin-upscale\] /, '')))
  }

  /** The final image; with `cachedOnly`, `notCached` rather than run the engine. */
  async process(file: string, params: UpscaleParams, options: ProcessOptions = {}): Promise<Outcome> {
    const base = await this.base(file, params, options)
    if (base.status !== 'done')
      return base
    const { entry, info } = base
    const target: OutputFormat = params.format === 'original' ? originalOutputFormat(info) : params.format
    const same = target === entry.record.format && params.quality === undefined
    const [final, placeholder] = await Promise.all([
      same ? entry : this.converted(file, entry, target, params.quality),
      options.placeholder ? this.placeholder(file, entry) : undefined,
    ])
    return { status: 'done', image: this.image(file, final, base, params, '', placeholder) }
  }

  /**
   * Responsive variants (`params.variants`): every width × format, each a cached conversion of the
   * one enhanced image (which is paid for or computed once). A width over the enhanced image's is
   * taken as the enhanced width: variants never enlarge again.
   */
  async processVariants(file: string, params: UpscaleParams, options: ProcessOptions = {}) {
    const base = await this.base(file, params, options)
    if (base.status !== 'done')
      return base
    const { entry, info } = base
    const full = entry.record.width
    const widths = [...new Set((params.variants?.widths ?? [full]).map(w => Math.min(w, full)))]
    // the conversions of one image run at once: sharp works on its own threads
    const formats = params.variants?.formats ?? [params.format]
    const wanted = formats.flatMap(format => widths.map(width => ({ format, width })))
    // one placeholder for every variant (each is the same picture), made beside their conversions
    const placeholding = options.placeholder ? this.placeholder(file, entry) : undefined
    const finals = await Promise.all(wanted.map(async ({ format, width }) => {
      const target: OutputFormat = format === 'original' ? originalOutputFormat(info) : format
      const same = width === full && target === entry.record.format && params.quality === undefined
      const resize = width === full ? undefined : width
      const final = same ? entry : await this.converted(file, entry, target, params.quality, resize)
      return { final, same, width }
    }))
    const placeholder = await placeholding
    // the enhanced image itself keeps its own name, so a page that also imports it ships one file
    const images = finals.map(({ final, same, width }) => this.image(file, final, base, params, same ? '' : `-${width}w`, placeholder))
    return { status: 'done', images } as VariantsOutcome
  }

  /** The enhanced entry an image's variants come from, or why there is none (held, not cached). */
  private async base(file: string, params: UpscaleParams, options: ProcessOptions): Promise<Base> {
    const cachedOnly = options.cachedOnly ?? false
    const source = options.source ?? await readSource(file)
    // a cached image needs no header read: its entry was made from these very bytes, and its record
    // says what they were (only `auto` needs the size first, to choose the scale)
    let looked: Looked | undefined
    if (params.scale !== 'auto') {
      const key = enhancementKey(source, this.engine, { scale: params.scale, type: params.type })
      looked = { key, hit: await this.read(key, file) }
      const { hit } = looked
      const known = hit && recordedSource(hit.record.params.source)
      if (hit && known && hit.record.width * hit.record.height <= this.maxOutputPixels)
        return { status: 'done', entry: hit, fresh: false, info: known, scale: params.scale }
    }
    const info = await inspect(source)
    const scale = params.scale === 'auto' ? autoScale(info.width, info.height) : params.scale
    const pixels = info.width * scale * info.height * scale
    if (pixels > this.maxOutputPixels) {
      throw new ImageError(`it is ${info.width}×${info.height} px, so ${scale}x would make ${(pixels / 1e6).toFixed(1)} megapixels, `
        + `more than maxOutputPixels (${(this.maxOutputPixels / 1e6).toFixed(1)} MP); ask for a smaller scale, or raise the option `
        + `\`maxOutputPixels\``)
    }
    const auto = params.scale === 'auto'
    const request = { file, source, info, scale, auto, type: params.type, sourceUrl: options.sourceUrl }
    const enhanced = await this.enhanced(request, cachedOnly, looked)
    if ('held' in enhanced)
      return { status: 'held', reason: enhanced.held }
    if ('notCached' in enhanced)
      return { status: 'notCached' }
    return { status: 'done', ...enhanced, info, scale }
  }

  /** A final entry as the caller gets it; `suffix` tells variants apart in the file name (`-480w`). */
  private image(
    file: string,
    final: CacheEntry,
    base: Base & { status: 'done' },
    params: UpscaleParams,
    suffix: string,
    placeholder?: Placeholder,
  ): ProcessedImage {
    // read by sharp from these very bytes when the entry was written, and checksummed since
    const meta = final.record
    const ext = extensionOf(meta.format)
    return {
      data: final.data,
      key: final.record.key,
      sha256: final.record.sha256,
      ext,
      fileName: `${assetBase(file)}@${base.scale}x${suffix}.${ext}`,
      metadata: {
        width: meta.width,
        height: meta.height,
        // written by our encoders, so one of the output formats
        format: meta.format as OutputFormat,
        originalWidth: base.info.width,
        originalHeight: base.info.height,
        scale: base.scale,
        type: params.type,
        ...placeholder,
      },
      cached: !base.fresh,
      engine: base.entry.record.provider,
    }
  }

  /** The image's bytes under its readable name (`<cacheDir>/named/<key>/hero@2x.png`), written once. */
  async named(image: ProcessedImage): Promise<string> {
    const path = this.cache.namedPath(image.key, image.fileName)
    // the name holds the key, so a whole file there has these very bytes: no need to read it back
    const there = await lstat(path).catch(() => undefined)
    if (!there?.isFile() || there.size !== image.data.length) {
      await this.writing(async () => {
        await ensureDir(dirname(path))
        await writeAtomic(path, image.data)
      })
    }
    return path
  }

  /** The name `process` will give the file (`hero@4x.jpg`), from the header alone: nothing is enhanced. */
  async outputName(file: string, params: UpscaleParams, source?: Buffer): Promise<string> {
    const info = await inspect(source ?? await readSource(file))
    const scale = params.scale === 'auto' ? autoScale(info.width, info.height) : params.scale
    const format = params.format === 'original' ? originalOutputFormat(info) : params.format
    return `${assetBase(file)}@${scale}x.${extensionOf(format)}`
  }

  /** The source as it is, for images that are not enhanced (dry run, maxTasks, a dev-server miss, onError). */
  async originalImage(file: string, params: UpscaleParams, { placeholder = false } = {}): Promise<ProcessedImage> {
    const data = await readSource(file)
    const { width, height, format } = await inspect(data)
    let fields: Placeholder | undefined
    if (placeholder) {
      const made = await makePlaceholder(data)
      const meta = await readOutputMeta(made.data)
      fields = placeholderFields(made.data, meta.width, meta.height, made.dominantColor)
    }
    const ext = extname(file).slice(1).toLowerCase() || extensionOf(format)
    return {
      data,
      key: '',
      sha256: sha256(data),
      ext,
      fileName: `${assetBase(file)}.${ext}`,
      metadata: {
        width,
        height,
        format: format as OutputFormat | 'tiff',
        originalWidth: width,
        originalHeight: height,
        scale: 1,
        type: params.type,
        ...fields,
      },
      cached: false,
      engine: 'none',
    }
  }

  /** A trusted entry, or undefined; a damaged one is reported once and then treated as missing. */
  private async read(key: string, file: string): Promise<CacheEntry | undefined> {
    const found = await this.cache.lookup(key)
    if ('entry' in found) {
      if (found.restamp)
        await this.cache.restamp(found.entry)
      if (!this.used.has(key)) {
        this.used.add(key)
        // pruning ages entries by days: one used within the hour need not be marked again
        if (Date.now() - found.usedAt > TOUCH_AFTER)
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

  /**
   * The enhanced entry, from the cache or made now (`fresh`); `looked`: its key and what the cache
   * had, when `base` looked already (the source is then hashed and looked up once).
   */
  private async enhanced(request: EnhanceRequest, cachedOnly: boolean, looked?: Looked): Promise<Enhanced> {
    const { file, source, scale, type } = request
    const key = looked?.key ?? enhancementKey(source, this.engine, { scale, type })
    const hit = looked ? looked.hit : await this.read(key, file)
    if (hit)
      return { entry: hit, fresh: false }
    if (cachedOnly)
      return { notCached: true }
    const made = await this.inFlight.run(key, async () => {
      const release = await this.writing(() => this.cache.lock(key))
      try {
        // another process may have finished it while this one waited for the lock
        const again = await this.read(key, file)
        if (again)
          return again
        // the shared tier: another machine may have paid for it already
        const shared = await this.readRemote(key, request)
        if (shared)
          return shared
        // a task an earlier build paid for and never cached is resumed, which costs nothing more
        const resume = this.engine.billable ? await readJournal(this.cache, key, this.engine) : undefined
        const held = this.engine.billable && !resume ? this.budget.spend() : undefined
        return held ?? await this.enhanceNow(key, { ...request, tasks: this.taskHooks(key, resume) })
      }
      finally {
        await release()
      }
    })
    return typeof made === 'string' ? { held: made } : { entry: made, fresh: !this.fromRemote.has(key) }
  }

  /**
   * An entry from the remote tier, verified and written to the disk cache first; else undefined.
   * It passes what an API result passes: no larger than `maxOutputPixels` (read from its record,
   * before its image is looked at), and the source at the scale asked for.
   */
  private async readRemote(key: string, request: EnhanceRequest): Promise<CacheEntry | undefined> {
    const { file, info, scale } = request
    const blob = await this.remote?.get(key)
    if (!blob)
      return undefined
    const checks = (record: { width: number, height: number }): string | undefined => {
      if (record.width * record.height > this.maxOutputPixels)
        return `it is ${record.width}×${record.height} px, more than maxOutputPixels (${(this.maxOutputPixels / 1e6).toFixed(1)} MP)`
      if (!isScaleOf(record, info, [scale]))
        return `it is ${record.width}×${record.height} px, not ${scale}x of the ${info.width}×${info.height} source`
      return undefined
    }
    const unpacked = await unpackEntry(blob, key, checks)
    if ('corrupt' in unpacked) {
      // made again below, and the upload replaces it
      this.remote!.rejected(key, `${file}: ${unpacked.corrupt}`)
      return undefined
    }
    // what the source is comes from our own reading of it, never from another machine's record (a
    // warm build takes it from the disk cache's record without reading the header again)
    const record = { ...unpacked.record, params: { ...unpacked.record.params, source: info } }
    record.seal = sealOf(record)
    const entry = await this.writing(() => this.cache.putRecord(record, unpacked.image))
    this.fromRemote.add(key)
    this.used.add(key)
    this.written++
    return entry
  }

  /** A write to the cache, its failure said in the user's terms: which folder, and what to change. */
  private async writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    }
    catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (!code || !['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT', 'EISDIR'].includes(code))
        throw error
      throw new CacheWriteError(`the cache directory ${this.cache.dir} cannot be written (${code}: ${(error as Error).message}); `
        + 'make it writable (or free some space), or point the `cacheDir` option at a folder that is')
    }
  }

  /** The journal and the budget of one image's billable tasks (see TaskHooks). */
  private taskHooks(key: string, resume: JournaledTask | undefined): TaskHooks | undefined {
    if (!this.engine.billable)
      return undefined
    const { id: provider, version: providerVersion } = this.engine
    return {
      resume,
      submitted: async (taskId) => {
        this.hooks.taskSubmitted?.()
        if (taskId === undefined)
          return
        // a journal that cannot be written (a full disk) must not stop the task being paid for
        await writeJournal(this.cache, { key, provider, providerVersion, taskId, submittedAt: Date.now() })
          .catch(error => this.hooks.warn?.(`task ${taskId} could not be journaled (${(error as Error).message}); if this build stops `
            + `before it is cached, the next one pays again`))
      },
      over: () => clearJournal(this.cache, key).catch(() => {}),
      another: (why) => {
        if (this.budget.spend())
          return false
        this.hooks.warn?.(why)
        return true
      },
    }
  }

  /** Run the engine, check what it made, and cache it at once. */
  private async enhanceNow(key: string, request: EnhanceRequest): Promise<CacheEntry> {
    this.hooks.engineStarted?.(this.engine.id)
    let result
    try {
      result = await this.engine.enhance(request)
    }
    catch (error) {
      this.hooks.engineFinished?.(this.engine.id)
      throw error
    }
    this.hooks.engineFinished?.(this.engine.id)
    let meta
    try {
      meta = result.info ?? await checkImage(result.data, this.maxOutputPixels)
    }
    catch (error) {
      throw new ImageError(`the ${this.engine.id} engine returned bytes that are not an image (${(error as Error).message})`)
    }
    const { data: bytes } = result
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const entry = await this.writing(() => this.cache.put(key, data, {
      ...meta,
      provider: this.engine.id,
      providerVersion: this.engine.version,
      params: { scale: request.scale, type: request.type, source: request.info },
      provenance: result.provenance,
    }))
    if (request.tasks)
      await clearJournal(this.cache, key)
    // shared at once: the runners that start next find it (an upload failure only warns)
    await this.remote?.put(key, packEntry(entry.record, entry.data))
    this.used.add(key)
    this.written++
    return entry
  }

  /**
   * The placeholder of an enhanced entry: made from its bytes once and cached as an entry of its
   * own (the tiny WebP, the colour in its record), so a hit and a miss give the same fields.
   */
  private async placeholder(file: string, from: CacheEntry): Promise<Placeholder> {
    const key = sha256(JSON.stringify({ from: from.record.key, placeholder: PLACEHOLDER_VERSION }))
    const cached = await this.read(key, file)
    const color = cached?.record.params.dominantColor
    const entry = cached && typeof color === 'string' && /^#[\da-f]{6}$/.test(color)
      ? cached
      : await this.inFlight.run(key, async (): Promise<CacheEntry> => {
        const { data, dominantColor } = await makePlaceholder(from.data)
        const meta = await readOutputMeta(data)
        const made = await this.writing(() => this.cache.put(key, data, {
          ...meta,
          provider: 'sharp',
          providerVersion: PLACEHOLDER_VERSION,
          params: { from: from.record.key, placeholder: PLACEHOLDER_VERSION, dominantColor },
        }))
        this.used.add(key)
        this.written++
        return made
      }) as CacheEntry
    const { record } = entry
    return placeholderFields(entry.data, record.width, record.height, record.params.dominantColor as string)
  }

  private async converted(file: string, from: CacheEntry, format: OutputFormat, quality?: number, width?: number) {
    const key = variantKey(from.record.key, format, quality, width)
    // no lock: a conversion costs nothing, and atomic writes make a race harmless
    return await this.read(key, file) ?? this.inFlight.run(key, async (): Promise<CacheEntry> => {
      const data = await convert(from.data, format, quality, width)
      const meta = await readOutputMeta(data)
      const entry = await this.writing(() => this.cache.put(key, data, {
        ...meta,
        provider: 'sharp',
        providerVersion: 'convert-1',
        params: { from: from.record.key, format, quality, width },
      }))
      this.used.add(key)
      this.written++
      return entry
    }) as Promise<CacheEntry>
  }
}

/** The source a record says its entry was made from (see enhanceNow), or undefined where it says none. */
function recordedSource(value: unknown): SourceInfo | undefined {
  const info = value as Partial<SourceInfo> | undefined
  const size = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0
  const depth = info?.depth === undefined || info.depth === 8 || info.depth === 16
  if (typeof info?.format !== 'string' || !size(info.width) || !size(info.height) || !depth)
    return undefined
  return { format: info.format, width: info.width!, height: info.height!, ...(info.depth && { depth: info.depth }) }
}

/** An entry last marked used longer ago than this is marked again when a build uses it. */
const TOUCH_AFTER = 3_600_000

/** The largest source file read: far beyond any image the engines take, far below a runaway read. */
const MAX_SOURCE_BYTES = 256 * 1024 * 1024

const NOT_A_FILE = 'it is not a regular file (a device, a pipe or a folder); only image files are read'

/** The source's bytes: a regular file (a link to one is fine; a device, a pipe or a folder is not), of sane size. */
async function readSource(file: string): Promise<Buffer> {
  let handle
  try {
    // checked before it is opened (a link to an image is fine), and opened so that a FIFO or a
    // device swapped in meanwhile cannot block: O_NONBLOCK
    const before = statSync(file)
    if (!before.isFile())
      throw new ImageError(NOT_A_FILE)
    // most sources are small: read at once, without a thread-pool round trip per call (read-file.ts)
    if (before.size <= READ_AT_ONCE_BYTES) {
      const { data, info } = readFileAtOnce(file, { limit: MAX_SOURCE_BYTES })
      if (info.size <= MAX_SOURCE_BYTES)
        return data
    }
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
    const info = await handle.stat()
    if (!info.isFile())
      throw new ImageError(NOT_A_FILE)
    if (info.size > MAX_SOURCE_BYTES)
      throw new ImageError(`the file is ${(info.size / 1e6).toFixed(0)} MB; sources over ${MAX_SOURCE_BYTES / 1024 / 1024} MiB are not `
        + `read`)
    return await handle.readFile()
  }
  catch (error) {
    if (error instanceof ImageError)
      throw error
    const code = (error as NodeJS.ErrnoException).code
    // EINVAL: what was opened is no regular file (swapped in after the check)
    if (code === 'EINVAL')
      throw new ImageError(NOT_A_FILE)
    throw new ImageError(code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? (error as Error).message})`)
  }
  finally {
    await handle?.close()
  }
}

/** The source's name for the asset, kept short: file systems refuse names over 255 bytes. */
function assetBase(file: string): string {
  const base = basename(file, extname(file))
  return Buffer.byteLength(base) <= 64 ? base : Buffer.from(base).subarray(0, 64).toString().replace(/\uFFFD+$/, '')
}
