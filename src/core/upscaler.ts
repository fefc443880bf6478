import type { Engine, Options, ResolvedOptions } from '../types'
import type { HeldReason } from './pipeline'
import type { ReportStream } from './report'
import { adoptLegacyCache, pruneIfDue, recordRemoteStats } from './cache'
import { createEngine } from './engines'
import { displayPath, UpscaleError } from './errors'
import { resolveOptions } from './options'
import { Pipeline } from './pipeline'
import { Reporter } from './report'
import { buildEnded, buildStarted, firstTime } from './state'

export const NO_TOKEN_NOTICE = '[unplugin-upscale] No API token (UPSCALE_API_TOKEN) is configured: images are enhanced with the built-in '
  + 'local engine.'

const plural = (n: number): string => `${n} image${n === 1 ? '' : 's'}`

/**
 * Options, reporter, engine, cache and pipeline, wired once: the bundler plugin, the CLI and the
 * JS API all work through one of these, so defaults, notices and failure wording are the same.
 */
export class Upscaler {
  options: ResolvedOptions
  readonly report: Reporter
  readonly engine: Engine
  pipeline: Pipeline
  /** between startBuild and endBuild */
  private building = false
  /** billable cache misses that were not sent in this build (offline, dry run, maxTasks), by label */
  private held: Array<{ label: string, reason: HeldReason }> = []

  constructor(private readonly raw: Options | undefined, root: string, out?: ReportStream) {
    this.options = resolveOptions(raw, root)
    this.report = new Reporter(this.options.logLevel, out)
    this.engine = createEngine(this.options, line => this.report.debug(line))
    this.pipeline = new Pipeline(this.options, this.engine, this.report.pipelineHooks(file => this.show(file)))
  }

  /** A path as messages print it: from the project root. */
  show(file: string): string {
    return displayPath(file, this.options.root)
  }

  /** Bundlers tell their root only once they are configured; the cache dir and globs follow it. */
  setRoot(root: string): void {
    const options = resolveOptions(this.raw, root)
    if (options.root === this.options.root)
      return
    this.options = options
    this.pipeline = new Pipeline(options, this.engine, this.report.pipelineHooks(file => this.show(file)))
  }

  /**
   * A build starts, or a dev server (`build: false`): the cache moved from its old default place,
   * the no-token notice (once per process), fresh counters. Only builds wait for each other to
   * print one summary, so a dev server a framework runs inside its build (React Router reads its
   * routes with one) never keeps the build's summary back.
   */
  startBuild({ build = true }: { build?: boolean } = {}): void {
    const moved = adoptLegacyCache(this.options.cacheDir, this.options.legacyCacheDirs)
    if (moved)
      this.report.info(`[unplugin-upscale] The cache moved from ${this.show(moved)} to ${this.show(this.options.cacheDir)} (the default `
        + `since 0.2: out of node_modules, so \`npm ci\` keeps it).`)
    if (this.options.providerFallback && !this.options.engine && firstTime(NO_TOKEN_NOTICE))
      this.report.info(NO_TOKEN_NOTICE)
    this.report.reset()
    this.pipeline.reset()
    this.held = []
    if (build && !this.building) {
      buildStarted(this.options.cacheDir)
      this.building = true
    }
  }

  /** An image was not sent: it is listed (and for offline and maxTasks, fails) when the build ends. */
  hold(label: string, reason: HeldReason): void {
    this.held.push({ label, reason })
  }

  /** The one wording of a failed image, whatever the caller. */
  failure(label: string, error: unknown): UpscaleError {
    return new UpscaleError(`cannot upscale ${label}: ${(error as Error).message}`)
  }

  /**
   * A build ends: close sockets, prune the cache (`prune: false` in the dev server, which never
   * ends a build), print the summary, then report what was held back: offline misses and images
   * beyond `maxTasks` fail the build, a dry run lists what it would have sent.
   */
  async endBuild({ prune = true }: { prune?: boolean } = {}): Promise<void> {
    await this.engine.close?.()
    const { options, pipeline } = this
    const { remote } = pipeline
    if (remote) {
      await remote.close()
      await recordRemoteStats(pipeline.cache, remote.stats)
    }
    // builds of this cache that ran at once (a client and a server compilation) print one summary
    const others = this.building ? buildEnded(options.cacheDir, this.report) : []
    this.building = false
    if (prune) {
      const { maxAge, maxSize } = options
      await pruneIfDue(pipeline.cache, { maxAge, maxSize, used: pipeline.used, written: pipeline.written })
      if (others) {
        for (const report of others)
          this.report.absorb(report)
        this.report.summary(remote?.stats)
      }
    }
    const held = this.held
    this.held = []
    if (held.length === 0)
      return
    const of = (reason: HeldReason) => held.filter(h => h.reason === reason)
    const list = (reason: HeldReason): string => of(reason).map(h => `  - ${h.label}`).sort().join('\n')
    if (of('offline').length)
      throw new UpscaleError(`Offline, and ${plural(of('offline').length)} not in the cache:\n${list('offline')}\n`
        + 'Build once with a token (and without UPSCALE_OFFLINE) to fill the cache, '
        + `or restore the cache directory (${this.show(this.options.cacheDir)}).`)
    if (of('maxTasks').length)
      throw new UpscaleError(`maxTasks is ${this.options.maxTasks}, and this build needs more: `
        + `${plural(of('maxTasks').length)} not in the cache `
        + `would have been sent beyond it:\n${list('maxTasks')}\nRaise maxTasks, or build once with a larger budget to fill the cache.`)
    this.report.info(`[unplugin-upscale] Dry run: ${plural(of('dryRun').length)} not in the cache would be sent to the API (billable), `
      + `and were emitted unenhanced:\n${list('dryRun')}`)
  }
}

export function createUpscaler(options?: Options, where: { root?: string, out?: ReportStream } = {}): Upscaler {
  return new Upscaler(options, where.root ?? process.cwd(), where.out)
}
