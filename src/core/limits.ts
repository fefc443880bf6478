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

/** Spaces calls at least 1/perSecond apart; a 429's Retry-After pushes every caller back. */
export class RateLimiter {
  private next = 0
  constructor(readonly perSecond: number) {}

  async wait(): Promise<void> {
    if (!Number.isFinite(this.perSecond))
      return this.next > Date.now() ? sleep(this.next - Date.now()) : undefined
    const now = Date.now()
    const at = Math.max(now, this.next)
    this.next = at + 1000 / this.perSecond
    if (at > now)
      await sleep(at - now)
  }

  pause(ms: number): void {
    this.next = Math.max(this.next, Date.now() + ms)
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
