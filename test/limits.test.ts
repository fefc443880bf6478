import { describe, expect, it } from 'vitest'
import { errorMessage } from '../src/core/engines/api'
import { backoff, parseRetryAfter, RateLimiter, Semaphore, Turn } from '../src/core/limits'
import { sharedLimits } from '../src/core/state'

describe('parseRetryAfter', () => {
  it.each<[string | null, number | undefined]>([
    ['3', 3000], ['0', 0], [' 1.5 ', 1500], [null, undefined], ['', undefined], ['soon', undefined],
    ['Wed, 25 Nov 2026 12:00:10 GMT', 10_000], ['Wed, 25 Nov 2026 11:00:00 GMT', 0],
  ])('%j → %j ms', (value, ms) => {
    expect(parseRetryAfter(value, Date.parse('Wed, 25 Nov 2026 12:00:00 GMT'))).toBe(ms)
  })
})

describe('backoff', () => {
  it('grows exponentially with full jitter, capped', () => {
    expect(backoff(0, 1000, 30_000, () => 1)).toBe(1000)
    expect(backoff(3, 1000, 30_000, () => 1)).toBe(8000)
    expect(backoff(10, 1000, 30_000, () => 1)).toBe(30_000)
    expect(backoff(3, 1000, 30_000, () => 0.5)).toBe(4000)
    expect(backoff(3, 1000, 30_000, () => 0)).toBe(0)
  })
})

describe('errorMessage', () => {
  it.each([
    ['{"status":400,"message":"bad scale"}', 'bad scale'],
    ['{"error":{"message":"quota exceeded","type":"x","code":"429"}}', 'quota exceeded'],
    ['<html><h1>502 Bad Gateway</h1></html>', 'an HTML page instead of JSON (a proxy or gateway error?)'],
    ['plain words', 'plain words'],
    ['', 'an empty body'],
    ['{"unrelated":true}', '{"unrelated":true}'],
  ])('%s', (body, message) => {
    expect(errorMessage(body)).toBe(message)
  })
})

describe('Semaphore', () => {
  it('lets at most `size` run at once, in order', async () => {
    const sem = new Semaphore(2)
    let running = 0
    let max = 0
    const order: number[] = []
    await Promise.all(Array.from({ length: 6 }, (_, i) => sem.use(async () => {
      running++
      max = Math.max(max, running)
      order.push(i)
      await new Promise(r => setTimeout(r, 5))
      running--
    })))
    expect(max).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('releases on failure', async () => {
    const sem = new Semaphore(1)
    await expect(sem.use(async () => {
      throw new Error('x')
    })).rejects.toThrow('x')
    expect(await sem.use(async () => 42)).toBe(42)
  })
})

describe('Turn', () => {
  it('holds an API slot or a download slot, never both, and gives back a slot that comes after it left', async () => {
    const api = new Semaphore(1)
    const downloads = new Semaphore(1)
    const a = new Turn(api, downloads)
    const b = new Turn(api, downloads)
    await a.api()
    let bHasApi = false
    const bWaits = b.api().then(() => {
      bHasApi = true
    })
    await new Promise(r => setTimeout(r, 10))
    expect(bHasApi).toBe(false)
    // a's result downloads: its API slot goes to b at once
    await a.download()
    await bWaits
    expect(bHasApi).toBe(true)
    // b ends while c waits for the download slot a holds; c gets it once a leaves
    const c = new Turn(api, downloads)
    b.leave()
    const cDownloads = c.download()
    a.leave()
    await cDownloads
    // a place that arrives after its turn left is given back, not kept
    const d = new Turn(api, downloads)
    const late = d.api()
    d.leave()
    await late
    await api.use(async () => {})
    c.leave()
    await downloads.use(async () => {})
  })
})

describe('RateLimiter', () => {
  it('spaces calls 1/perSecond apart, and a pause holds everyone', async () => {
    const rate = new RateLimiter(50)
    const start = Date.now()
    for (let i = 0; i < 5; i++)
      await rate.wait()
    expect(Date.now() - start).toBeGreaterThanOrEqual(75) // 4 gaps of 20 ms, with timer slack
    const unlimited = new RateLimiter(Infinity)
    unlimited.pause(60)
    const t = Date.now()
    await unlimited.wait()
    expect(Date.now() - t).toBeGreaterThanOrEqual(50)
  })
})

describe('sharedLimits', () => {
  it('is one object per API key and settings, across plugin instances', () => {
    const a = sharedLimits('http://x', 'token', 4, 2)
    expect(sharedLimits('http://x', 'token', 4, 2)).toBe(a)
    expect(sharedLimits('http://x', 'other', 4, 2)).not.toBe(a)
    expect(sharedLimits('http://y', 'token', 4, 2)).not.toBe(a)
  })
})
