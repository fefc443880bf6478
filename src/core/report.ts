import type { RemoteStats } from './cache/remote'
import type { PipelineHooks } from './pipeline'

export type LogLevel = 'silent' | 'info' | 'debug'
type Outcome = 'cached' | 'enhanced' | 'failed' | 'held'

export interface ReportStream {
  write: (text: string) => unknown
  isTTY?: boolean
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/**
 * What one build tells its user: notices, a progress line while images are being enhanced (in
 * place on a terminal, sparse plain lines elsewhere), and one summary line at the end.
 */
export class Reporter {
  private images = new Set<string>()
  /** how each image ended, by id: an image that ends again (a dev-server reload) replaces its outcome */
  private outcomes = new Map<string, { outcome: Outcome, engine?: string }>()
  private anonymous = 0
  private done = 0
  private cached = 0
  private failed = 0
  private enhanced = { local: 0, api: 0, other: 0 }
  private submitted = 0
  private inFlight = 0
  private apiInFlight = 0
  private apiSince = 0
  private apiWaitMs = 0
  private shown = false
  private lastLine = -Infinity
  private lastQuarter = 0
  private started: number

  constructor(
    readonly level: LogLevel,
    private readonly out: ReportStream = process.stdout,
    private readonly live: boolean = Boolean(out.isTTY) && !process.env.CI,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now()
  }

  info(message: string): void {
    if (this.level !== 'silent')
      this.print(`${message}\n`)
  }

  warn(message: string): void {
    if (this.level !== 'silent')
      this.print(`${message}\n`)
  }

  debug(message: string): void {
    if (this.level === 'debug')
      this.print(`[unplugin-upscale] ${message}\n`)
  }

  reset(): void {
    Object.assign(this, {
      images: new Set(),
      outcomes: new Map(),
      done: 0,
      cached: 0,
      failed: 0,
      enhanced: { local: 0, api: 0, other: 0 },
      submitted: 0,
      inFlight: 0,
      apiInFlight: 0,
      apiWaitMs: 0,
      shown: false,
      lastLine: -Infinity,
      lastQuarter: 0,
      started: this.now(),
    })
  }

  /** What the pipeline reports, routed here; `show` turns a file into the path to print. */
  pipelineHooks(show: (file: string) => string): PipelineHooks {
    return {
      damaged: (file, why) => this.warn(`[unplugin-upscale] The cache entry of ${show(file)} is damaged (${why}): it is ignored and made `
        + `again.`),
      engineStarted: engine => this.engineStarted(engine),
      engineFinished: engine => this.engineFinished(engine),
      taskSubmitted: () => this.taskSubmitted(),
      warn: message => this.warn(`[unplugin-upscale] ${message}`),
    }
  }

  imageStarted(id: string): void {
    this.images.add(id)
  }

  /**
   * Each image ends once, in one of these: so cached + enhanced + failed + held is the number of
   * images, however the work was shared. `held`: not sent (offline, dry run, maxTasks).
   */
  imageFinished(outcome: Outcome, engine?: string, id = `#${this.anonymous++}`): void {
    const previous = this.outcomes.get(id)
    if (previous)
      this.count(previous, -1)
    else
      this.done++
    this.outcomes.set(id, { outcome, engine })
    this.count({ outcome, engine }, 1)
    this.progress()
  }

  private count({ outcome, engine }: { outcome: Outcome, engine?: string }, by: 1 | -1): void {
    if (outcome === 'cached')
      this.cached += by
    if (outcome === 'failed')
      this.failed += by
    if (outcome === 'enhanced')
      this.enhanced[engine === 'api' || engine === 'local' ? engine : 'other'] += by
  }

  /** A billable task was submitted (each one, retries included): the summary's "billable tasks". */
  taskSubmitted(): void {
    this.submitted++
  }

  engineStarted(engine: string): void {
    this.inFlight++
    if (engine === 'api' && this.apiInFlight++ === 0)
      this.apiSince = this.now()
    this.progress()
  }

  engineFinished(engine: string): void {
    this.inFlight--
    if (engine === 'api' && --this.apiInFlight === 0)
      this.apiWaitMs += this.now() - this.apiSince
  }

  /** `upscale 12/40 · 3 cached · 2 in flight`: shown only once something is being enhanced. */
  progressLine(): string {
    return `upscale ${this.done}/${this.images.size} · ${this.cached} cached · ${this.inFlight} in flight`
  }

  private progress(): void {
    if (this.level === 'silent' || (!this.shown && this.inFlight === 0))
      return
    const now = this.now()
    if (this.live) {
      if (now - this.lastLine < 100 && this.done < this.images.size)
        return
      this.out.write(`\r\x1B[K${this.progressLine()}`)
      this.shown = true
      this.lastLine = now
      return
    }
    // no terminal: a plain line when enhancing starts, at each quarter, and at most every 10 s
    const quarter = Math.floor((4 * this.done) / Math.max(1, this.images.size))
    if (!this.shown || quarter > this.lastQuarter || now - this.lastLine >= 10_000) {
      this.out.write(`[unplugin-upscale] ${this.progressLine()}\n`)
      this.shown = true
      this.lastLine = now
      this.lastQuarter = quarter
    }
  }

  /**
   * Take in what another build reported that ran at the same time (a client and a server
   * compilation, each with a plugin of its own): an image both saw counts once, as this one ended it.
   */
  absorb(other: Reporter): void {
    for (const id of other.images)
      this.images.add(id)
    for (const [id, ended] of other.outcomes) {
      if (!this.outcomes.has(id))
        this.imageFinished(ended.outcome, ended.engine, id)
    }
    this.submitted += other.submitted
    this.apiWaitMs = Math.max(this.apiWaitMs, other.apiWaitMs)
    this.started = Math.min(this.started, other.started)
  }

  /** images, cache hits, enhanced (local/API), failed, time waiting on the API, billable tasks. */
  summaryLine(remote?: RemoteStats): string {
    const { local, api, other } = this.enhanced
    const enhanced = local + api + other
    const by = [api && `${api} API`, local && `${local} local`, other && `${other} custom`].filter(Boolean).join(', ')
    const shared = remote
      ? [
          ` · remote cache: ${plural(remote.hits, 'hit')}, ${remote.misses} missed, ${plural(remote.uploads, 'upload')}`,
          remote.rejected ? `, ${remote.rejected} rejected` : '',
          remote.unsigned ? ', unsigned' : '',
          remote.off ? ` (off: ${remote.off})` : '',
        ].join('')
      : ''
    return [
      `[unplugin-upscale] ${plural(this.images.size, 'image')}: ${this.cached} cached, ${enhanced} enhanced${by ? ` (${by})` : ''}`,
      `, ${this.failed} failed · ${seconds(this.apiWaitMs)} waiting on the API · ${plural(this.submitted, 'billable task')}${shared}`,
      ` · ${seconds(this.now() - this.started)}`,
    ].join('')
  }

  summary(remote?: RemoteStats): void {
    if (this.level === 'silent' || this.images.size === 0)
      return
    this.print(`${this.summaryLine(remote)}\n`)
  }

  /** Clear the live progress line before anything else is printed under it. */
  private print(text: string): void {
    if (this.live && this.shown) {
      this.out.write('\r\x1B[K')
      this.shown = false
    }
    this.out.write(text)
  }
}
