import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DiskCache, enhancementKey, InFlight, variantKey } from '../src/core/cache'

const local = { id: 'local', version: '1' }
const bytes = Buffer.from('some image bytes')

describe('cache keys', () => {
  it('depend on the bytes, not on where they are', () => {
    expect(enhancementKey(Buffer.from(bytes), local, { scale: 2, type: 'clean' })).toBe(enhancementKey(bytes, local, { scale: 2, type: 'clean' }))
    expect(enhancementKey(bytes, local, { scale: 2, type: 'clean' })).toMatch(/^[a-f\d]{64}$/)
  })

  it('change with any parameter, the bytes, the provider or its version', () => {
    const base = enhancementKey(bytes, local, { scale: 2, type: 'clean' })
    const others = [
      enhancementKey(Buffer.from('some image bytez'), local, { scale: 2, type: 'clean' }),
      enhancementKey(bytes, { id: 'api', version: '1' }, { scale: 2, type: 'clean' }),
      enhancementKey(bytes, { id: 'local', version: '2' }, { scale: 2, type: 'clean' }),
      enhancementKey(bytes, local, { scale: 4, type: 'clean' }),
      enhancementKey(bytes, local, { scale: 'auto', type: 'clean' }),
      enhancementKey(bytes, local, { scale: 2, type: 'face' }),
    ]
    expect(new Set([base, ...others]).size).toBe(others.length + 1)
  })

  it('give each conversion its own key', () => {
    const k = 'a'.repeat(64)
    const keys = [variantKey(k, 'webp', undefined), variantKey(k, 'webp', 80), variantKey(k, 'avif', undefined), variantKey('b'.repeat(64), 'webp', undefined)]
    expect(new Set(keys).size).toBe(4)
    expect(variantKey(k, 'webp', 80)).toBe(keys[1])
  })
})

const get = async (c: DiskCache, key: string) => {
  const found = await c.lookup(key)
  return 'entry' in found ? found.entry : undefined
}

describe('DiskCache', () => {
  async function cache() {
    const dir = await mkdtemp(join(tmpdir(), 'upscale-cache-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    return new DiskCache(dir)
  }
  const meta = { width: 2, height: 1, format: 'png', provider: 'local', providerVersion: '1', params: { scale: 2 } }

  it('stores an image with its record and reads it back', async () => {
    const c = await cache()
    const key = 'c'.repeat(64)
    expect(await get(c, key)).toBeUndefined()
    await c.put(key, bytes, meta)
    const hit = await get(c, key)
    expect(hit!.data.equals(bytes)).toBe(true)
    expect(hit!.record).toMatchObject({ key, bytes: bytes.length, width: 2, height: 1, format: 'png', provider: 'local', file: `${key}.png` })
    // nothing but the image and the record, no temp files left
    expect((await readdir(join(c.dir, 'cc'))).sort()).toEqual([`${key}.json`, `${key}.png`])
  })

  it('treats an image that does not match its record as missing', async () => {
    const c = await cache()
    const key = 'd'.repeat(64)
    const { path } = await c.put(key, bytes, meta)
    await writeFile(path, Buffer.from('some image bytes, altered'))
    expect(await get(c, key)).toBeUndefined()
    await writeFile(path, Buffer.from('some image bytex'))
    expect(await get(c, key)).toBeUndefined()
    await rm(path)
    expect(await get(c, key)).toBeUndefined()
  })

  it('treats a broken record as missing', async () => {
    const c = await cache()
    const key = 'e'.repeat(64)
    await c.put(key, bytes, meta)
    const record = await readFile(c.recordPath(key), 'utf8')
    await writeFile(c.recordPath(key), record.slice(0, 20))
    expect(await get(c, key)).toBeUndefined()
  })
})

describe('InFlight', () => {
  it('shares one run per key among concurrent callers, and runs again afterwards', async () => {
    const f = new InFlight<number>()
    let runs = 0
    const task = async () => {
      runs++
      await new Promise(r => setTimeout(r, 10))
      return runs
    }
    expect(await Promise.all([f.run('k', task), f.run('k', task), f.run('j', task)])).toEqual([2, 2, 2])
    expect(runs).toBe(2)
    await f.run('k', task)
    expect(runs).toBe(3)
  })
})
