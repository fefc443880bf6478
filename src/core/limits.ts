const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** At most `size` holders at once; the rest wait in order. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor(readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++
      return
    }
    await new Promise<void>(r => this.waiting.push(r))
  }

  release(): void {
    const next = this.waiting.shift()
    if (next)
      next()
    else
      this.active--
  }

  async use<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await task()
    }
    finally {
      this.release()
    }
  }
}

/**
 * At most `perSecond` calls in any window of one second (plus a little slack for the network, since
 * the server counts arrivals), and calls spaced at least 1/perSecond apart so they do not come in
 * bursts. Below one per second, one call per 1/perSecond seconds. A 429's Retry-After pushes
 * every caller back.
 */
export class RateLimiter {
  private readonly times: number[] = []
  private pausedUntil = 0
  private readonly perWindow: number
  private readonly windowMs: number

  constructor(readonly perSecond: number, slackMs = 50) {
    this.perWindow = Math.max(1, Math.floor(perSecond))
    this.windowMs = Math.max(1000, (this.perWindow / perSecond) * 1000) + slackMs
  }

  async wait(): Promise<void> {
    const now = Date.now()
    let at = Math.max(now, this.pausedUntil)
    if (Number.isFinite(this.perSecond)) {
      const last = this.times.at(-1)
      if (last !== undefined)
        at = Math.max(at, last + 1000 / this.perSecond)
      const nthLast = this.times.at(-this.perWindow)
      if (this.times.length >= this.perWindow && nthLast !== undefined)
        at = Math.max(at, nthLast + this.windowMs)
      this.times.push(at)
      if (this.times.length > this.perWindow)
        this.times.splice(0, this.times.length - this.perWindow)
    }
    if (at > now)
      await sleep(at - now)
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms)
  }
}

/** Exponential backoff with full jitter: a random delay in [0, base · 2^attempt], capped. */
export function backoff(attempt: number, base: number, cap = 30_000, random = Math.random): number {
  return Math.round(random() * Math.min(cap, base * 2 ** attempt))
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value)
    return undefined
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value))
    return Math.round(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Run `task` once per key at a time: concurrent callers with the same key share its promise. */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>()

  run(key: string, task: () => Promise<T>): Promise<T> {
    let promise = this.running.get(key)
    if (!promise) {
      promise = task().finally(() => this.running.delete(key))
      this.running.set(key, promise)
    }
    return promise
  }
}
