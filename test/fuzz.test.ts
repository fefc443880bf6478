// Property tests: thousands of generated inputs, each either a correct result or an error that
// names the input, never a crash of another kind, a hang, or a write outside the cache.
import type { AddressInfo } from 'node:net'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DiskCache } from '../src/core/cache'
import { sealOf } from '../src/core/cache/record'
import { ApiError, Retryable, Transport } from '../src/core/engines/api/http'
import { errorMessage, TaskClient } from '../src/core/engines/api/task'
import { UpscaleError } from '../src/core/errors'
import { resolveOptions } from '../src/core/options'
import { FORMATS, parseUpscaleId, QueryError, SCALES, TYPES } from '../src/core/query'

const ran: Record<string, number> = {}
const count = (name: string, runs: number): number => (ran[name] = runs)

const KEYS = ['upscale', 'scale', 'scale_factor', 'type', 'as', 'format', 'quality', 'w', 'v', 'import', '', 'x']
const VALUES = ['', '1', '2', '3', '4', 'auto', 'clean', 'face', 'url', 'metadata', 'webp', 'avif', 'jpeg', 'png', 'original', '100', '0', '-1', '1e2', 'true', '%00', '#']

describe('fuzzing', () => {
  it('query strings: a parsed import within its domains, null, or a QueryError', () => {
    const key = fc.oneof(fc.constantFrom(...KEYS), fc.string())
    const pair = fc.tuple(key, fc.oneof(fc.constantFrom(...VALUES), fc.string()))
    fc.assert(fc.property(fc.array(pair, { maxLength: 8 }), fc.boolean(), (pairs, withFlag) => {
      const query = [...(withFlag ? [['upscale', '']] : []), ...pairs].map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')
      let parsed
      try {
        parsed = parseUpscaleId(`/src/a.png?${query}`, { scale: 'auto', type: 'clean' })
      }
      catch (error) {
        expect(error).toBeInstanceOf(QueryError)
        return
      }
      if (parsed === null)
        return
      expect(parsed.file).toBe('/src/a.png')
      expect(SCALES).toContain(String(parsed.params.scale))
      expect(TYPES).toContain(parsed.params.type)
      expect(FORMATS).toContain(parsed.params.format)
      expect(['url', 'metadata']).toContain(parsed.params.as)
      if (parsed.params.quality !== undefined)
        expect(parsed.params.quality >= 1 && parsed.params.quality <= 100).toBe(true)
    }), { numRuns: count('query strings', 5000) })
  })

  it('options: resolved options, or an UpscaleError that names the option', () => {
    const names = ['root', 'cacheDir', 'provider', 'token', 'apiUrl', 'defaults', 'concurrency', 'rateLimit', 'timeout', 'retries', 'maxTasks', 'maxAge', 'maxSize', 'logLevel', 'onError', 'sync', 'offline', 'dryRun', 'publicUrl', 'callbackUrl', 'maxOutputPixels', 'maxResultBytes', 'nope']
    const value = fc.oneof(fc.anything(), fc.constantFrom('api', 'local', 'auto', 'http://x', 'https://u:p@x', 'debug', 'original', Infinity, -1, 0, 1, 2.5, true))
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 5 }), (options) => {
      try {
        const resolved = resolveOptions(options as never, '/project', {})
        expect(['api', 'local']).toContain(resolved.provider)
        expect(resolved.concurrency >= 1).toBe(true)
        expect(resolved.cacheDir.startsWith('/')).toBe(true)
      }
      catch (error) {
        expect(error).toBeInstanceOf(UpscaleError)
        expect((error as Error).message).toMatch(/^\[unplugin-upscale\] (?:option `[\w.]+`|options must be an object)/)
        // a password given in the API URL never comes back in its message
        if ((error as Error).message.includes('option `apiUrl`'))
          expect((error as Error).message).not.toContain('u:p@')
      }
    }), { numRuns: count('options', 3000) })
  })

  it('cache records: every lookup is an entry, a miss or a damage report, and reads nothing outside the cache', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upscale-fuzz-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const cache = new DiskCache(join(dir, 'cache'))
    const key = 'ab'.repeat(32)
    await mkdir(cache.folder(key), { recursive: true })
    await writeFile(join(dir, 'secret.png'), 'outside')
    const field = fc.oneof(fc.jsonValue(), fc.constantFrom(key, `${key}.png`, '../secret.png', '/etc/passwd', `${key}.json`, 1, 6))
    const record = fc.record({
      cacheFormat: fc.oneof(fc.constant(1), fc.jsonValue()),
      key: fc.oneof(fc.constant(key), fc.string()),
      file: field,
      bytes: field,
      sha256: field,
      width: field,
      height: field,
      format: field,
      seal: fc.boolean(),
    }, { requiredKeys: [] })
    const bytes = fc.uint8Array({ maxLength: 64 })
    await fc.assert(fc.asyncProperty(fc.oneof(record, fc.jsonValue()), bytes, async (raw, image) => {
      const value = raw && typeof raw === 'object' && !Array.isArray(raw) && 'seal' in raw
        ? { ...raw, seal: raw.seal ? sealOf(raw as never) : undefined }
        : raw
      await writeFile(cache.recordPath(key), JSON.stringify(value) ?? '')
      await writeFile(cache.imagePath(key, 'png'), image)
      const found = await cache.lookup(key)
      expect(Object.keys(found)[0]).toMatch(/^(?:entry|missing|corrupt)$/)
      if ('entry' in found)
        expect(found.entry.path.startsWith(cache.folder(key))).toBe(true)
    }), { numRuns: count('cache records', 600) })
    // lookups only read: nothing but the two files written by the test is in the cache
    expect((await readdir(cache.folder(key))).sort()).toEqual([`${key}.json`, `${key}.png`])
  })

  it('API answers: a task with a state, or an ApiError/Retryable that says what came back', async () => {
    let next: { status: number, body: string } = { status: 200, body: '' }
    const server = createServer((_, res) => {
      res.statusCode = next.status
      res.end(next.body)
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const http = new Transport({ timeout: 5000, token: 'fuzz-token', apiUrl: url })
    onTestFinished(async () => {
      await http.close()
      server.closeAllConnections()
      await new Promise(r => server.close(r))
    })
    const tasks = new TaskClient(http, url, () => {}, () => new ApiError('deadline'))
    const deadline = new AbortController().signal
    const task = fc.record({
      task_id: fc.oneof(fc.string(), fc.jsonValue()),
      state: fc.oneof(fc.integer({ min: -10, max: 5 }), fc.jsonValue()),
      image: fc.oneof(fc.webUrl(), fc.jsonValue()),
    }, { requiredKeys: [] })
    const status = fc.oneof(fc.constant(200), fc.integer({ min: 100, max: 599 }), fc.jsonValue())
    const body = fc.oneof(
      fc.record({ status, data: fc.oneof(task, fc.jsonValue()), message: fc.string() }, { requiredKeys: [] })
        .map(b => JSON.stringify(b)),
      fc.jsonValue().map(v => JSON.stringify(v) ?? ''),
      fc.string(),
      fc.constantFrom('<html>502</html>', '', '{', 'null', '{"error":{"message":"x"}}'),
    )
    const code = fc.constantFrom(200, 200, 200, 400, 401, 404, 413, 429, 500, 502, 503)
    await fc.assert(fc.asyncProperty(code, body, async (status, text) => {
      next = { status, body: text }
      try {
        const data = await tasks.get('t', deadline)
        expect(typeof data.state).toBe('number')
        expect(status).toBe(200)
      }
      catch (error) {
        expect(error instanceof ApiError || error instanceof Retryable).toBe(true)
        expect((error as Error).message.length).toBeGreaterThan(10)
      }
    }), { numRuns: count('API answers', 1500) })
  })

  it('error bodies: any text gives a short message', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map(v => JSON.stringify(v) ?? '')), (text) => {
      const message = errorMessage(text)
      expect(typeof message).toBe('string')
      expect(message.length).toBeGreaterThan(0)
    }), { numRuns: count('error bodies', 5000) })
    const total = Object.values(ran).reduce((a, b) => a + b, 0)
    console.info(`fuzzing: ${Object.entries(ran).map(([k, v]) => `${v} ${k}`).join(', ')}; ${total} inputs in all`)
  })
})
