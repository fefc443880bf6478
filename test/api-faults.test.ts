import type { Options } from '../src/types'
import type { Fault } from './server'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { api, server } from './helpers/api'
import { emitted, listFiles, tempProject, viteBuild } from './helpers/project'

const MAIN = `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`

describe('API faults the build survives', () => {
  it.each<[string, Fault[], { submits: number, downloads?: number }, object?]>([
    ['429 with Retry-After', [{ status: 429, retryAfter: 1, message: 'slow down' }], { submits: 2 }],
    ['500', [{ status: 500 }], { submits: 2 }],
    ['a 502 HTML page from a proxy', [{ html: true }], { submits: 2 }],
    ['a dropped connection', [{ drop: true }], { submits: 2 }],
    ['malformed JSON', [{ malformedJson: true }], { submits: 2 }],
    ['a body slower than the timeout', [{ slowBody: 40 }], { submits: 2 }, { timeout: 400 }],
    ['latency beyond the timeout', [{ latency: 800 }], { submits: 2 }, { timeout: 300 }],
    ['state -8 (processing timed out)', [{ state: -8 }], { submits: 2 }],
    ['state -2 (result upload failed)', [{ state: -2 }], { submits: 2 }],
    ['two failed polls', [{ route: 'poll', status: 503, times: 2 }], { submits: 1 }],
    // the task is paid for: its result is downloaded again (with a fresh URL from a poll), never submitted again
    ['a result URL that 404s', [{ route: 'result', status: 404 }], { submits: 1, downloads: 2 }],
    ['a result URL that answers 503 twice', [{ route: 'result', status: 503, times: 2 }], { submits: 1, downloads: 3 }],
  ])('%s', async (_, faults, expected, more) => {
    const s = await server()
    s.inject(...faults)
    const dir = await tempProject()
    const started = Date.now()
    const { out, result } = await viteBuild(dir, MAIN, api(s, more))
    expect(await emitted(out, result.a)).toMatchObject({ width: 576, height: 576 })
    expect(s.stats.submits).toBe(expected.submits)
    if (expected.downloads)
      expect(s.stats.downloads).toBe(expected.downloads)
    if (faults[0].retryAfter)
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })
})

describe('API faults that fail the build, naming the image and the cause, caching nothing', () => {
  it.each<[string, Fault[], RegExp, number, ({ journaled?: boolean } & Options)?]>([
    ['401', [{ status: 401, message: 'Invalid token' }], /the API rejected the token \(HTTP 401: Invalid token\); check the `token` option or UPSCALE_API_TOKEN/, 1],
    ['400 (upstream shape)', [{ status: 400, message: 'scale_factor must be 1, 2 or 4' }], /the submit answered HTTP 400: scale_factor must be 1, 2 or 4/, 1],
    ['413 (gateway shape)', [{ status: 413, shape: 'gateway', message: 'Request Entity Too Large' }], /the submit answered HTTP 413: Request Entity Too Large/, 1],
    ['state -7', [{ state: -7 }], /the task ended in state -7 \(Invalid or corrupt image\)/, 1],
    ['state -5', [{ state: -5 }], /the task ended in state -5 \(Image too large\)/, 1],
    ['state -1', [{ state: -1 }], /the task ended in state -1 \(Failed\)/, 1],
    ['a state the contract does not list (-9)', [{ state: -9 }], /the task ended in state -9/, 1],
    ['a corrupt result', [{ route: 'result', corrupt: true }], /the API's result is not a valid image .*; nothing was cached/, 1],
    ['a result of another size than the task says', [{ misreport: true }], /the API's result is 576×576 px but the task says 577×576; nothing was cached/, 1],
    ['an HTML error page on every attempt', [{ html: true, times: 10 }], /gave up after 2 attempts: 1\) the submit answered HTTP 502: an HTML page instead of JSON \(a proxy or gateway error\?\); 2\)/, 2, { retries: 1 }],
    ['polls that keep failing (never submitted twice)', [{ route: 'poll', status: 503, times: 10 }], /polling task [\da-f-]{36} failed 3 times in a row; the last: polling answered HTTP 503/, 1, { retries: 2, journaled: true }],
    ['500 on every attempt', [{ status: 500, times: 10, message: 'boom' }], /gave up after 3 attempts: 1\) the submit answered HTTP 500: boom; 2\) the submit answered HTTP 500: boom; 3\) the submit answered HTTP 500: boom/, 3, { retries: 2 }],
    ['a task that never ends', [], /the task took longer than taskTimeout \(0.3 s\)/, 1, { taskTimeout: 300, pollInterval: 50, journaled: true }],
  ])('%s', async (_, faults, message, submits, test) => {
    // a task that may still finish stays journaled, for the next build to resume; a failed one does not
    const { journaled = false, ...more } = test ?? {}
    const s = await server('taskTimeout' in more ? { pollsToFinish: 1000 } : {})
    s.inject(...faults)
    const dir = await tempProject()
    const build = viteBuild(dir, MAIN, api(s, more))
    await expect(build).rejects.toThrow(/\[unplugin-upscale\] cannot upscale src\/bird\.png\?scale=2&upscale \(imported by src\/main\.js\): /)
    await expect(build).rejects.toThrow(message)
    expect(s.stats.submits).toBe(submits)
    const left = (await listFiles(join(dir, '.cache'))).map(f => f.slice(f.lastIndexOf('/') + 1))
    expect(left).toEqual(journaled ? [expect.stringMatching(/^[a-f\d]{64}\.task\.json$/)] : [])
  })

  it('state -3 when the service cannot fetch image_url', async () => {
    const s = await server()
    const dir = await tempProject()
    const build = viteBuild(dir, MAIN, api(s, { publicUrl: () => `${s.url}/cdn/missing.png` }))
    await expect(build).rejects.toThrow(/cannot upscale src\/bird\.png\?scale=2&upscale \(imported by src\/main\.js\): the task ended in state -3 \(Could not download image_url\)/)
    expect(await listFiles(join(dir, '.cache'))).toEqual([])
  })

  it('a result URL that has expired', async () => {
    const s = await server({ resultTtl: -1 })
    const dir = await tempProject()
    const build = viteBuild(dir, MAIN, api(s, { retries: 1 }))
    await expect(build).rejects.toThrow(/task [\da-f-]{36} is done \(and billed\), but its result could not be downloaded: gave up after 2 attempts: 1\) the result URL answered 404 \(expired or never stored\); 2\) the result URL answered 404/)
    expect(s.stats.downloads).toBe(2)
    expect(s.stats.submits).toBe(1)
    // no entry, but the task stays journaled: a later build resumes it instead of paying again
    const left = await listFiles(join(dir, '.cache'))
    expect(left).toHaveLength(1)
    expect(left[0]).toMatch(/\.task\.json$/)
  })

  it('an upload over maxUploadBytes fails before any request', async () => {
    const s = await server()
    const dir = await tempProject()
    const build = viteBuild(dir, MAIN, api(s, { maxUploadBytes: 100_000 }))
    await expect(build).rejects.toThrow(/the image is 0\.1 MB; the API takes at most 0\.1 MB \(option `maxUploadBytes`\)/)
    expect(s.stats.requests).toBe(0)
  })

  it('stops sending after a 401: the other images fail at once', async () => {
    const s = await server()
    const dir = await tempProject()
    const main = `import a from './bird.png?upscale'; import b from './woman.png?upscale'; import c from './head.jpg?upscale'; globalThis.result = { a, b, c }`
    await expect(viteBuild(dir, main, api(s, { token: 'wrong', concurrency: 1 }))).rejects.toThrow(/the API rejected the token/)
    expect(s.stats.submits).toBe(1)
  })
})

describe('API limits', () => {
  it('runs at most `concurrency` tasks at once', async () => {
    const s = await server({ latency: 200 })
    const dir = await tempProject()
    const imports: string[] = []
    for (let i = 0; i < 12; i++) {
      await sharp({ create: { width: 20 + i, height: 16, channels: 3, background: { r: i * 20, g: 40, b: 90 } } }).png().toFile(join(dir, `src/gen${i}.png`))
      imports.push(`import i${i} from './gen${i}.png?scale=2&upscale'`)
    }
    const main = `${imports.join('\n')}\nglobalThis.result = { ${imports.map((_, i) => `i${i}`).join(', ')} }`
    const { out, result } = await viteBuild(dir, main, api(s, { concurrency: 4, sync: true }))
    expect(s.stats.submits).toBe(12)
    expect(s.stats.maxParallel).toBe(4)
    expect(await emitted(out, result.i11)).toMatchObject({ width: 62, height: 32 })
  })

  it('spaces requests by rateLimit', async () => {
    const s = await server()
    const dir = await tempProject()
    const main = `import a from './bird.png?upscale'; import b from './woman.png?upscale'; import c from './head.jpg?upscale'; globalThis.result = { a, b, c }`
    const started = Date.now()
    await viteBuild(dir, main, api(s, { sync: true, rateLimit: 5 }))
    // three submits at most 5 per second: the third goes out 400 ms after the first, at the earliest
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    expect(s.stats.submits).toBe(3)
  })
})
