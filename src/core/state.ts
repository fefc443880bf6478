import type { Reporter } from './report'
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { InFlight, RateLimiter, Semaphore } from './limits'

/**
 * Everything shared by the whole process, in one place. A Vite run builds client and SSR with a
 * plugin instance each, a site may call the JS API next to a bundler, and all of them must still
 * print a notice once, pay for an image once, and keep to one set of API limits.
 */

const notices = new Set<string>()

/** True the first time a notice is given in this process. */
export function firstTime(notice: string): boolean {
  if (notices.has(notice))
    return false
  notices.add(notice)
  return true
}

/** Builds of one cache that run at once in this process, and the reports of those that ended first. */
const buildsByCacheDir = new Map<string, { running: number, ended: Reporter[] }>()

/** A build of this cache starts. */
export function buildStarted(cacheDir: string): void {
  const builds = buildsByCacheDir.get(cacheDir) ?? { running: 0, ended: [] }
  builds.running++
  buildsByCacheDir.set(cacheDir, builds)
}

/**
 * A build ends: while others of the same cache still run, its report waits for them (undefined);
 * the last one to end gets the reports of the others, for one summary of them all.
 */
export function buildEnded(cacheDir: string, report: Reporter): Reporter[] | undefined {
  const builds = buildsByCacheDir.get(cacheDir)
  if (!builds || --builds.running <= 0) {
    buildsByCacheDir.delete(cacheDir)
    return builds?.ended ?? []
  }
  builds.ended.push(report)
  return undefined
}

const inFlightByCacheDir = new Map<string, InFlight<unknown>>()

/** Work in flight per cache dir: callers asking for the same key share one promise. */
export function inFlightFor<T>(cacheDir: string): InFlight<T> {
  let inFlight = inFlightByCacheDir.get(cacheDir)
  if (!inFlight)
    inFlightByCacheDir.set(cacheDir, inFlight = new InFlight())
  return inFlight as InFlight<T>
}

/**
 * `slots`: tasks talking to the API at once (submitting, polling: `concurrency`); `downloads`:
 * results being fetched at once, as many, so a task lets its API slot go while its result arrives.
 */
export interface SharedLimits {
  slots: Semaphore
  downloads: Semaphore
  rate: RateLimiter
  state: { tokenRejected: boolean }
}

const limitsByKey = new Map<string, SharedLimits>()

/** The limits of one API key (concurrency, rate, a rejected token), shared by every caller in the process. */
export function sharedLimits(apiUrl: string, token: string, concurrency: number, rateLimit: number): SharedLimits {
  const key = `${apiUrl}\0${createHash('sha256').update(token).digest('hex')}\0${concurrency}\0${rateLimit}`
  let limits = limitsByKey.get(key)
  if (!limits) {
    const [slots, downloads] = [new Semaphore(concurrency), new Semaphore(concurrency)]
    limits = { slots, downloads, rate: new RateLimiter(rateLimit), state: { tokenRejected: false } }
    limitsByKey.set(key, limits)
  }
  return limits
}

/**
 * One local-engine slot per core: bundlers load every module at once, and each image in work holds
 * float buffers of a few bytes per output sample, so a cold build of a hundred photos must not
 * decode them all together.
 */
export const localEngineSlots = new Semaphore(Math.max(1, availableParallelism()))
