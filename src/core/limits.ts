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
 * One task's place under two limits: `first` while it talks to the API (submitting, polling),
 * `second` while its result downloads, never both, so the service always has as many tasks as
 * `first` allows while finished ones arrive. `leave` (once the task is over) gives back what it
 * holds, also a place that comes after the task has already ended.
 */
export class Turn {
  private holding: Semaphore | undefined
  private over = false
  constructor(private readonly first: Semaphore, private readonly second: Semaphore) {}

  /** Hold a place of `first` (the API). */
  api(): Promise<void> {
    return this.take(this.first)
  }

  /** Hold a place of `second` (downloads), letting the API's go. */
  download(): Promise<void> {
    return this.take(this.second)
  }

  leave(): void {
    this.over = true
    this.holding?.release()
    this.holding = undefined
  }

  private async take(limit: Semaphore): Promise<void> {
    if (this.holding === limit)
      return
    this.holding?.release()
    this.holding = undefined
    await limit.acquire()
    if (this.over)
      limit.release()
    else
      this.holding = limit
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
