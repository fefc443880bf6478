import { readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DiskCache } from '../src/core/cache'
import { apiOptions, server } from './helpers/api'
import { captureOutput, childBuild, countingEngine, emitted, listFiles, tempProject, viteBuild } from './helpers/project'

const THREE = `
  import a from './bird.png?scale=2&upscale'
  import b from './woman.png?scale=2&upscale'
  import c from './head.jpg?scale=2&upscale'
  globalThis.result = { a, b, c }
`
const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++)
    await new Promise(r => setTimeout(r, 25))
  if (!check())
    throw new Error(`timed out waiting for ${what}`)
}

/** Every record in the cache names an image that matches it. */
async function everyEntryValid(dir: string): Promise<number> {
  const cache = new DiskCache(join(dir, '.cache'))
  const entries = await cache.entries()
  for (const { key } of entries)
    expect(await cache.lookup(key), key).toHaveProperty('entry')
  return entries.length
}

describe('parallel builds in separate processes', () => {
  it('make exactly one API call per distinct image', { timeout: 60_000 }, async () => {
    const s = await server({ latency: 300 })
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), THREE)
    const builds = ['one', 'two', 'three'].map(out => childBuild(dir, apiOptions(s, { sync: true }), out).done)
    const results = await Promise.all(builds)
    for (const r of results)
      expect(r.code, r.output).toBe(0)
    expect(s.stats.submits).toBe(3)
    expect(await everyEntryValid(dir)).toBe(3)
  })
})

describe('a build killed with SIGKILL', () => {
  it('leaves nothing a later build would trust, and the next build reuses what was written', { timeout: 60_000 }, async () => {
    const s = await server()
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), THREE)
    // the third download trickles in: the child is killed while receiving it
    s.inject({ route: 'result' }, { route: 'result' }, { route: 'result', slowBody: 500 })
    const { child, done } = childBuild(dir, apiOptions(s, { sync: true, concurrency: 1 }), 'killed')
    await until(() => s.stats.downloads === 3, 'the third download')
    await new Promise(r => setTimeout(r, 200))
    child.kill('SIGKILL')
    expect((await done).signal).toBe('SIGKILL')

    expect(await everyEntryValid(dir)).toBe(2)
    const leftovers = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.lock'))
    expect(leftovers).toHaveLength(1) // its owner is dead: the next build takes it over

    const { out, result } = await viteBuild(dir, THREE, { options: apiOptions(s, { sync: true }) })
    // the image that was not fully written is not paid again: its task was journaled, and is resumed
    expect(s.stats.submits).toBe(3)
    expect(s.stats.downloads).toBe(4)
    for (const url of Object.values(result))
      expect((await emitted(out, url as string)).width).toBeGreaterThan(400)
    expect(await everyEntryValid(dir)).toBe(3)
  })
})

describe('a damaged cache', () => {
  it.each([
    ['a truncated image', async (img: string) => writeFile(img, (await readFile(img)).subarray(0, 100)), /its image has 100 bytes, the record says \d+/],
    ['an altered image', async (img: string) => {
      const b = await readFile(img)
      b[b.length - 20] ^= 0xFF
      await writeFile(img, b)
    }, /its image does not match the checksum in its record/],
    ['a missing image', async (img: string) => rm(img), /its image file is missing/],
    ['a broken record', async (img: string) => writeFile(img.replace(/\.png$/, '.json'), '{"cacheFormat": 1, "key'), /its record is not valid JSON/],
    ['an edited record', async (img: string) => {
      const path = img.replace(/\.png$/, '.json')
      await writeFile(path, (await readFile(path, 'utf8')).replace('"width": 576', '"width": 999'))
    }, /its record was changed after it was written/],
  ])('with %s warns once and makes the entry again', async (_, damage, why) => {
    const dir = await tempProject()
    const { engine, calls } = countingEngine()
    const main = `import a from './bird.png?scale=2&upscale'; import b from './bird.png?upscale&scale=2'; globalThis.result = { a, b }`
    const first = await viteBuild(dir, main, { options: { engine } })
    const [image] = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.png'))
    await damage(image)

    const { output, result } = await captureOutput(() => viteBuild(dir, main, { options: { engine }, outDir: 'again' }))
    const warnings = output.split('\n').filter(l => l.includes('is damaged'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/\[unplugin-upscale\] The cache entry of src\/bird\.png is damaged \(/)
    expect(warnings[0]).toMatch(why)
    expect(calls).toHaveLength(2)
    expect(result!.result.a).toBe(first.result.a) // the same bytes again
    expect(await everyEntryValid(dir)).toBe(1)
  })
})

describe('offline', () => {
  it('builds from the cache with no token and no network, and lists every missing image in one error', async () => {
    const s = await server()
    const dir = await tempProject()
    await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, { options: apiOptions(s) })
    const requests = s.stats.requests
    const offline = { provider: 'api' as const, apiUrl: s.url, offline: true }

    const ok = await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, { options: offline, outDir: 'ok' })
    expect(await emitted(ok.out, ok.result.a)).toMatchObject({ width: 576 })

    const build = viteBuild(dir, THREE, { options: offline, outDir: 'missing' })
    await expect(build).rejects.toThrow(/Offline, and 2 images not in the cache:\n {2}- src\/head\.jpg\?scale=2&upscale \(imported by src\/main\.js\)\n {2}- src\/woman\.png\?scale=2&upscale \(imported by src\/main\.js\)\nBuild once with a token/)
    expect(s.stats.requests).toBe(requests)
  })

  it('is turned on by UPSCALE_OFFLINE=1', async () => {
    const s = await server()
    const dir = await tempProject()
    process.env.UPSCALE_OFFLINE = '1'
    onTestFinished(() => {
      delete process.env.UPSCALE_OFFLINE
    })
    await expect(viteBuild(dir, THREE, { options: { provider: 'api', apiUrl: s.url } })).rejects.toThrow(/Offline, and 3 images not in the cache/)
    expect(s.stats.requests).toBe(0)
  })
})

describe('onError: \'original\'', () => {
  it('warns, emits the image unenhanced, caches nothing, and the next build tries again', async () => {
    const s = await server()
    s.inject({ status: 400, message: 'no thanks' })
    const dir = await tempProject()
    const main = `import a, { width } from './bird.png?scale=2&upscale'; globalThis.result = { a, width }`
    const { output, result } = await captureOutput(() => viteBuild(dir, main, { options: apiOptions(s, { onError: 'original' }) }))
    expect(output).toMatch(/cannot upscale src\/bird\.png\?scale=2&upscale \(imported by src\/main\.js\): the submit answered HTTP 400: no thanks\nIt is emitted unenhanced \(onError: 'original'\)/)
    expect(await emitted(join(dir, 'dist'), result!.result.a)).toMatchObject({ width: 288 })
    expect(result!.result.width).toBe(288)
    expect(await listFiles(join(dir, '.cache'))).toEqual([])

    const again = await viteBuild(dir, main, { options: apiOptions(s, { onError: 'original' }), outDir: 'again' })
    expect(again.result.width).toBe(576)
  })
})

describe('cache housekeeping', () => {
  it('removes entries unused for maxAge, and the least recently used beyond maxSize, never one the build used', async () => {
    const dir = await tempProject()
    const { engine } = countingEngine()
    const cache = new DiskCache(join(dir, '.cache'))
    await viteBuild(dir, THREE, { options: { engine } })
    const [bird, woman, head] = await Promise.all(['bird', 'woman', 'head'].map(async (name) => {
      const records = (await listFiles(join(dir, '.cache'))).filter(f => /[\da-f]{64}\.json$/.test(f))
      for (const r of records) {
        if (JSON.parse(await readFile(r, 'utf8')).params.source && (await readFile(r, 'utf8')).includes(`"width": ${{ bird: 288, woman: 228, head: 280 }[name]}`))
          return r
      }
      throw new Error(name)
    }))
    const longAgo = new Date(Date.now() - 200 * 24 * 3_600_000)
    await utimes(bird, longAgo, longAgo)
    await utimes(woman, longAgo, longAgo)

    // maxAge: the old entries go, except the one this build uses
    await viteBuild(dir, `import b from './woman.png?scale=2&upscale'; globalThis.result = { b }`, { options: { engine, maxAge: 30 * 24 * 3_600_000 }, outDir: 'd2' })
    const keys = new Set((await cache.entries()).map(e => e.key))
    const keyOf = (record: string) => record.split('/').pop()!.slice(0, -5)
    expect(keys.has(keyOf(bird))).toBe(false)
    expect(keys.has(keyOf(woman))).toBe(true)
    expect(keys.has(keyOf(head))).toBe(true)

    // the same settings within the hour: no second scan, so an entry aged meanwhile stays
    await utimes(head, longAgo, longAgo)
    await viteBuild(dir, `import b from './woman.png?scale=2&upscale'; globalThis.result = { b }`, { options: { engine, maxAge: 30 * 24 * 3_600_000 }, outDir: 'd2b' })
    expect((await cache.entries()).map(e => e.key)).toContain(keyOf(head))

    // maxSize: down to what this build uses, whatever the limit says
    await viteBuild(dir, `import c from './head.jpg?scale=2&upscale'; globalThis.result = { c }`, { options: { engine, maxSize: 1 }, outDir: 'd3' })
    expect((await cache.entries()).map(e => e.key)).toEqual([keyOf(head)])
    expect(await everyEntryValid(dir)).toBe(1)
  })
})

describe('files another build writes at the same moment', () => {
  it('a half-written prune marker counts as none (was: "Unexpected end of JSON input" failing a parallel build)', async () => {
    const dir = await tempProject()
    const { engine } = countingEngine()
    await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, { options: { engine, maxSize: 1e9 } })
    // as another process leaves it mid-write
    await writeFile(join(dir, '.cache', 'prune.json'), '')
    await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, { options: { engine, maxSize: 1e9 }, outDir: 'again' })
    expect(JSON.parse(await readFile(join(dir, '.cache', 'prune.json'), 'utf8'))).toMatchObject({ settings: '15552000000/1000000000' })
  })
})

describe('DiskCache.lock', () => {
  it('waits for a live owner, and takes over from a dead or stale one', async () => {
    const dir = await tempProject()
    const cache = new DiskCache(join(dir, '.cache'))
    const key = 'ab'.repeat(32)
    const release = await cache.lock(key)
    let second = false
    const waiting = cache.lock(key, { pollMs: 10 }).then((r) => {
      second = true
      return r
    })
    await new Promise(r => setTimeout(r, 100))
    expect(second).toBe(false)
    await release()
    await (await waiting)()

    const path = join(dir, '.cache', 'ab', `${key}.lock`)
    await writeFile(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() })) // no such process
    await (await cache.lock(key, { pollMs: 10 }))()

    await writeFile(path, JSON.stringify({ pid: 1, host: 'another-machine' }))
    const old = new Date(Date.now() - 60_000)
    await utimes(path, old, old)
    await (await cache.lock(key, { staleMs: 30_000, pollMs: 10 }))()
  })
})
