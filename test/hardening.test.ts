// Issue 11's cases, each reproduced as the adversary did it, and shown fixed: bodies and pixels
// that would exhaust memory, results paid for twice, a cache tricked into leaving its folder,
// credentials in URLs and server answers, and the smaller ones.
import type { ServerResponse } from 'node:http'
import { execFile } from 'node:child_process'
import { lstat, mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { createGzip } from 'node:zlib'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { enhancementKey } from '../src/core/cache'
import { sealOf } from '../src/core/cache/record'
import { resolveOptions } from '../src/core/options'
import { api, apiOptions, server } from './helpers/api'
import { captureOutput, childBuild, emitted, listFiles, tempProject, viteBuild } from './helpers/project'

const run = promisify(execFile)
const BIN = resolve(import.meta.dirname, '../dist/cli.js')
const MAIN = `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`
const API_VERSION = (url: string) => ({ id: 'api', version: `${new URL(url).origin}#1` })

/** Bytes forever, as fast as the socket takes them, until the client goes away. */
function endless(res: ServerResponse, chunk = Buffer.alloc(64 * 1024, 1), everyMs = 0): void {
  res.writeHead(200, { 'content-type': 'image/png' })
  const timer = setInterval(() => {
    if (res.destroyed)
      return clearInterval(timer)
    let more = res.write(chunk)
    while (more && everyMs === 0 && !res.destroyed)
      more = res.write(chunk)
  }, everyMs || 1)
  res.on('close', () => clearInterval(timer))
}

async function build(dir: string, options: object) {
  await writeFile(join(dir, 'src/main.js'), MAIN)
  const started = Date.now()
  const result = await childBuild(dir, options, 'dist').done
  return { ...result, seconds: (Date.now() - started) / 1000 }
}

describe('1. every request has a deadline through its whole body, every body a cap', () => {
  it('a result URL that streams forever is cut at maxResultBytes (was: 8 GB in 42 s)', { timeout: 60_000 }, async () => {
    const s = await server()
    s.inject({ route: 'result', respond: (_, res) => endless(res) })
    const dir = await tempProject()
    const r = await build(dir, apiOptions(s, { timeout: 5000, retries: 0, maxResultBytes: 32 * 1024 * 1024 }))
    expect(r.code).toBe(1)
    expect(r.output).toMatch(/GET \/results\/[\w-]+\.png answered with more than 33554432 bytes \(option `maxResultBytes` for results\); nothing more was read/)
    expect(r.maxRssMb).toBeLessThan(700)
    console.info(`endless body: failed after ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`)
  })

  it('a trickle that never ends is cut by `timeout`, however much it has sent', { timeout: 60_000 }, async () => {
    const s = await server()
    s.inject({ route: 'result', respond: (_, res) => endless(res, Buffer.alloc(1024, 1), 20) })
    const dir = await tempProject()
    const r = await build(dir, apiOptions(s, { timeout: 2000, retries: 0 }))
    expect(r.code).toBe(1)
    expect(r.output).toMatch(/GET \/results\/[\w-]+\.png failed: no answer within timeout \(2 s\)/)
    // one download attempt of 2 s, plus the build around it
    expect(r.seconds).toBeLessThan(15)
  })

  it('a 2 GB Content-Length is refused before a byte of it is read (was: 6.2 GB peak)', { timeout: 60_000 }, async () => {
    const s = await server()
    s.inject({ route: 'result', respond: (_, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(2 * 1024 ** 3) })
      res.write(Buffer.alloc(1024))
    } })
    const dir = await tempProject()
    const r = await build(dir, apiOptions(s, { retries: 0 }))
    expect(r.output).toMatch(/answered with more than 134217728 bytes/)
    expect(r.maxRssMb).toBeLessThan(500)
    console.info(`2 GB Content-Length: refused after ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`)
  })

  it('a gzip bomb counts its decoded bytes against the cap (was: 8 GB)', { timeout: 60_000 }, async () => {
    // 256 MiB of zeros, gzipped to a few hundred KB
    const gz = createGzip({ level: 9 })
    const parts: Buffer[] = []
    gz.on('data', c => parts.push(c))
    const zero = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < 256; i++) gz.write(zero)
    await new Promise(r => gz.end(r))
    const bomb = Buffer.concat(parts)
    expect(bomb.length).toBeLessThan(2_000_000)
    const s = await server()
    s.inject({ route: 'result', respond: (_, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip', 'content-length': bomb.length })
      res.end(bomb)
    } })
    const dir = await tempProject()
    const r = await build(dir, apiOptions(s, { retries: 0, maxResultBytes: 16 * 1024 * 1024 }))
    expect(r.output).toMatch(/answered with more than 16777216 bytes/)
    expect(r.maxRssMb).toBeLessThan(500)
    console.info(`gzip bomb: refused after ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`)
  })

  it('the loopback slowBody fault at `timeout: 3000`: every attempt is cut at 3 s (was: 10.2 s for the retry)', { timeout: 60_000 }, async () => {
    const s = await server()
    s.inject({ slowBody: 300, times: 2 }, { slowBody: 300 })
    const dir = await tempProject()
    const started = Date.now()
    await expect(viteBuild(dir, MAIN, api(s, { timeout: 3000, retries: 1, retryDelay: 5 }))).rejects.toThrow(/gave up after 2 attempts: 1\) POST \/task\/pic\/scale failed: no answer within timeout \(3 s\)/)
    expect((Date.now() - started) / 1000).toBeLessThan(8)
    console.info(`slowBody at timeout 3000, 2 attempts: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
})

describe('2. pixel limits come before any allocation', () => {
  it.each([[8000, 4], [4096, 4]])('a %i² PNG at scale=%i fails at once, naming the option and the importer (was: > 10 GB)', { timeout: 60_000 }, async (side, scale) => {
    const dir = await tempProject()
    await sharp({ create: { width: side, height: side, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toFile(join(dir, 'src/big.png'))
    await writeFile(join(dir, 'src/main.js'), `import a from './big.png?scale=${scale}&upscale'; globalThis.result = { a }`)
    const r = await childBuild(dir, { provider: 'local' }, 'dist').done
    expect(r.code).toBe(1)
    expect(r.output).toContain(`cannot upscale src/big.png?scale=${scale}&upscale (imported by src/main.js): it is ${side}×${side} px, so ${scale}x would make`)
    expect(r.output).toContain('raise the option `maxOutputPixels`')
    expect(r.maxRssMb).toBeLessThan(600)
    console.info(`${side}² PNG at scale=${scale}: refused, peak RSS ${r.maxRssMb.toFixed(0)} MB`)
  })

  it('an API result whose header says 16000×16000 is refused without being decoded (was: 859 MB)', async () => {
    // a real PNG header and too little data: only the header is ever read
    const head = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#000' } }).png().toBuffer()
    const png = Buffer.from(head)
    png.writeUInt32BE(16000, 16)
    png.writeUInt32BE(16000, 20)
    const s = await server()
    s.inject({ route: 'result', respond: (_, res) => res.end(png) })
    const dir = await tempProject()
    await expect(viteBuild(dir, MAIN, api(s))).rejects.toThrow(/it is 16000×16000 px, more than maxOutputPixels \(50000000\); it was not decoded/)
    expect((await listFiles(join(dir, '.cache'))).filter(f => !f.endsWith('.task.json'))).toEqual([])
  })
})

describe('3. a paid task is never paid again', () => {
  it('result downloads that fail (503, 404, a 200 without a state) retry the download, not the task (was: 3 submits at maxTasks 1)', async () => {
    const s = await server()
    s.inject({ route: 'result', status: 503 }, { route: 'result', status: 404 }, { route: 'poll', noState: true })
    const dir = await tempProject()
    const { output, result } = await captureOutput(() => viteBuild(dir, MAIN, { ...api(s, { maxTasks: 1 }), logLevel: 'info' }))
    expect(result).toBeDefined()
    expect(s.stats.submits).toBe(1)
    expect(s.stats.downloads).toBe(3)
    expect(output).toMatch(/1 image: 0 cached, 1 enhanced \(1 API\), 0 failed · [\d.]+ s waiting on the API · 1 billable task/)
  })

  it('a build killed while polling leaves its task ids journaled, and the next builds resume them (was: 29 submits for 5 images)', { timeout: 90_000 }, async () => {
    const s = await server({ pollsToFinish: 40 })
    const dir = await tempProject()
    const five = `import a from './bird.png?upscale'; import b from './woman.png?upscale'; import c from './head.jpg?upscale'; import d from './butterfly.png?upscale'; import e from './monarch.jpg?upscale'; globalThis.result = { a, b, c, d, e }`
    await writeFile(join(dir, 'src/main.js'), five)
    for (let round = 0; round < 3; round++) {
      const polls = s.stats.polls
      const { child, done } = childBuild(dir, apiOptions(s, { pollInterval: 20 }), 'killed')
      const until = Date.now() + 20_000
      while (s.stats.polls < polls + 10 && Date.now() < until)
        await new Promise(r => setTimeout(r, 20))
      child.kill('SIGKILL')
      await done
    }
    expect(s.stats.submits).toBe(5)
    expect((await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.task.json'))).toHaveLength(5)
    const { out, result } = await viteBuild(dir, five, api(s, { pollInterval: 5 }))
    expect(s.stats.submits).toBe(5)
    expect((await emitted(out, result.a)).width).toBe(1152)
    expect((await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.task.json'))).toEqual([])
  })

  it('when the cache cannot be written, the paid task stays journaled and the next build downloads it (was: paid again every build)', async () => {
    const s = await server()
    const dir = await tempProject()
    const key = enhancementKey(await readFile(join(dir, 'src/bird.png')), API_VERSION(s.url), { scale: 2, type: 'clean' })
    // a folder where the image must go: the rename fails as a full disk would fail the write
    const blocked = join(dir, '.cache', key.slice(0, 2), `${key}.png`)
    await mkdir(blocked, { recursive: true })
    await expect(viteBuild(dir, MAIN, api(s))).rejects.toThrow(/the cache directory .* cannot be written \(EISDIR.*point the `cacheDir` option at a folder that is/)
    expect(s.stats.submits).toBe(1)
    await rm(blocked, { recursive: true })
    const { out, result } = await viteBuild(dir, MAIN, api(s))
    expect(s.stats.submits).toBe(1)
    expect((await emitted(out, result.a)).width).toBe(576)
  })

  it('state -8 resubmits once, says so, and counts both tasks; at maxTasks 1 it stops instead', async () => {
    const s = await server()
    s.inject({ state: -8 })
    const dir = await tempProject()
    const { output } = await captureOutput(() => viteBuild(dir, MAIN, { ...api(s), logLevel: 'info' }))
    expect(output).toMatch(/task [\da-f-]{36}: the task ended in state -8 \(Processing timed out\); submitting it again \(one more billable task\)/)
    expect(output).toMatch(/1 enhanced \(1 API\), 0 failed · [\d.]+ s waiting on the API · 2 billable tasks/)
    s.inject({ state: -8 })
    const capped = await tempProject()
    await expect(viteBuild(capped, MAIN, api(s, { maxTasks: 1 }))).rejects.toThrow(/the task ended in state -8 \(Processing timed out\), and maxTasks allows no new task to replace it/)
  })
})

describe('4. the cache never leaves its folder', () => {
  it('an image replaced by a link to /etc/passwd, its record re-sealed, is refused and made again (was: emitted)', async () => {
    const dir = await tempProject()
    await viteBuild(dir, MAIN, { options: { provider: 'local' } })
    const [image] = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.png'))
    const passwd = await readFile('/etc/passwd')
    const recordPath = image.replace(/\.png$/, '.json')
    const record = JSON.parse(await readFile(recordPath, 'utf8'))
    const { createHash } = await import('node:crypto')
    Object.assign(record, { bytes: passwd.length, sha256: createHash('sha256').update(passwd).digest('hex'), verified: undefined })
    record.seal = sealOf(record)
    await writeFile(recordPath, JSON.stringify(record))
    await rm(image)
    await symlink('/etc/passwd', image)
    const { output, result } = await captureOutput(() => viteBuild(dir, MAIN, { options: { provider: 'local' }, outDir: 'again', logLevel: 'info' }))
    expect(output).toMatch(/The cache entry of src\/bird\.png is damaged \(its image is not a plain file the cache wrote \(ELOOP\)\)/)
    const out = await emitted(join(dir, 'again'), result!.result.a)
    expect(out).toMatchObject({ width: 576, format: 'png' })
    expect(out.data.includes('root:')).toBe(false)
  })

  it('an entry whose stamp changed is verified to its header: a re-sealed record with another size is caught', async () => {
    const dir = await tempProject()
    await viteBuild(dir, MAIN, { options: { provider: 'local' } })
    const [image] = (await listFiles(join(dir, '.cache'))).filter(f => f.endsWith('.png'))
    const recordPath = image.replace(/\.png$/, '.json')
    const record = JSON.parse(await readFile(recordPath, 'utf8'))
    record.width = 999
    record.seal = sealOf(record)
    await writeFile(recordPath, JSON.stringify(record))
    await utimes(image, new Date(), new Date(Date.now() - 5000))
    const { output } = await captureOutput(() => viteBuild(dir, MAIN, { options: { provider: 'local' }, outDir: 'again', logLevel: 'info' }))
    expect(output).toContain('its image does not decode to the size and format in its record')
  })

  it('`cache prune` and `cache clear` never reach through a linked key folder, and leave files that are not theirs', async () => {
    const dir = await tempProject()
    await viteBuild(dir, MAIN, { options: { provider: 'local', cacheDir: 'c' } })
    const outside = join(dir, 'outside')
    await mkdir(outside)
    const stranger = `${'a'.repeat(64)}.png`
    await writeFile(join(outside, stranger), 'not the cache\'s')
    await symlink(outside, join(dir, 'c', 'aa'))
    await mkdir(join(dir, 'c', 'ab'))
    await writeFile(join(dir, 'c', 'ab', 'thesis.docx'), 'a year of work')

    await run(process.execPath, [BIN, 'cache', 'prune', '--dir', 'c', '--max-size', '0'], { cwd: dir })
    expect(await readFile(join(outside, stranger), 'utf8')).toBe('not the cache\'s')
    const cleared = await run(process.execPath, [BIN, 'cache', 'clear', '--dir', 'c'], { cwd: dir }).catch(e => e)
    expect(cleared.code).toBe(1)
    expect(cleared.stderr).toMatch(/left 2 files that are not cache entries: aa, ab\/thesis\.docx/)
    expect(await readFile(join(dir, 'c', 'ab', 'thesis.docx'), 'utf8')).toBe('a year of work')
    expect(await readFile(join(outside, stranger), 'utf8')).toBe('not the cache\'s')
    // the cache's own files are gone
    expect((await readdir(join(dir, 'c'))).sort()).toEqual(['aa', 'ab'])
  })

  it('a source linked to /dev/zero is refused at once (was: read without limit, 12 GB)', async () => {
    const dir = await tempProject()
    await symlink('/dev/zero', join(dir, 'src/zero.png'))
    await expect(viteBuild(dir, `import a from './zero.png?upscale'; globalThis.result = { a }`)).rejects.toThrow(/cannot upscale src\/zero\.png\?upscale \(imported by src\/main\.js\): it is not a regular file/)
  })
})

describe('5. credentials', () => {
  it('apiUrl with a user name and password is refused at startup without echoing them', () => {
    let message = ''
    try {
      resolveOptions({ apiUrl: 'http://user:s3cret@127.0.0.1:9/' })
    }
    catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/option `apiUrl` must not carry a user name or password \(got "http:\/\/\*\*\*@127\.0\.0\.1:9"\)/)
    expect(message).not.toContain('s3cret')
    expect(message).not.toContain('user:')
  })

  it('a token echoed back inside task_id reaches no log line (debug too), no cache file and no journal', async () => {
    const s = await server()
    s.inject({ echoToken: true })
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), MAIN)
    const r = await childBuild(dir, { ...apiOptions(s), logLevel: 'debug' }, 'dist').done
    expect(r.code).toBe(0)
    expect(r.output).toMatch(/GET \/task\/[\da-f-]{36}-\*\*\* → 200/)
    expect(r.output).not.toContain(s.token)
    for (const file of await listFiles(join(dir, '.cache')))
      expect((await readFile(file)).includes(s.token), file).toBe(false)
  })
})

describe('6. the smaller ones', () => {
  it('the server never sees more than `rateLimit` requests in any one second (was: 3 at rateLimit 2)', { timeout: 60_000 }, async () => {
    const s = await server({ pollsToFinish: 2 })
    const dir = await tempProject()
    const main = `import a from './bird.png?upscale'; import b from './woman.png?upscale'; import c from './head.jpg?upscale'; import d from './butterfly.png?upscale'; globalThis.result = { a, b, c, d }`
    await viteBuild(dir, main, api(s, { rateLimit: 2, pollInterval: 10 }))
    const times = s.stats.times
    expect(times.length).toBeGreaterThanOrEqual(12)
    for (const t of times)
      expect(times.filter(u => u >= t && u < t + 1000).length).toBeLessThanOrEqual(2)
  })

  it('a 240-character source name makes a short asset name', async () => {
    const dir = await tempProject()
    const name = `${'a-very-long-name-'.repeat(14)}x.png`
    expect(name.length).toBeGreaterThan(240)
    await writeFile(join(dir, 'src', name), await readFile(join(dir, 'src/bird.png')))
    const { out, result } = await viteBuild(dir, `import a from './${name}?scale=1&upscale'; globalThis.result = { a }`, { options: { provider: 'local' } })
    const file = (await emitted(out, result.a)).file
    expect(file.slice(file.lastIndexOf('/') + 1).length).toBeLessThan(100)
  })

  it('`?upscale#frag` fails naming the importer (was: the original, silently)', async () => {
    const dir = await tempProject()
    await expect(viteBuild(dir, `import a from './bird.png?upscale#frag'; globalThis.result = { a }`)).rejects.toThrow(/invalid import src\/bird\.png\?upscale#frag \(imported by src\/main\.js\): a fragment \(`#frag`\) means nothing to an image import/)
  })

  it.each([
    ['under a file', (dir: string) => join(dir, 'src/bird.png', 'cache'), 'ENOTDIR'],
    ['in a read-only file system', () => '/proc/upscale-cache', 'ENOENT'],
  ])('a cache dir %s fails naming the folder and the option', async (_, cacheDir, code) => {
    const dir = await tempProject()
    await expect(viteBuild(dir, MAIN, { options: { provider: 'local', cacheDir: cacheDir(dir) } })).rejects.toThrow(new RegExp(`the cache directory .* cannot be written \\(${code}.*the \`cacheDir\` option`))
  })

  it('a 16-bit PNG stays 16-bit through the local engine', async () => {
    const dir = await tempProject()
    await sharp(join(dir, 'src/bird.png')).toColourspace('rgb16').png().toFile(join(dir, 'src/deep.png'))
    expect((await sharp(join(dir, 'src/deep.png')).metadata()).depth).toBe('ushort')
    const { out, result } = await viteBuild(dir, `import a from './deep.png?scale=2&upscale'; globalThis.result = { a }`, { options: { provider: 'local' } })
    const meta = await sharp((await emitted(out, result.a)).data).metadata()
    expect(meta).toMatchObject({ width: 576, height: 576, depth: 'ushort' })
  })

  it('summary counts add up under races: every image ends once', async () => {
    const dir = await tempProject()
    // the same image from two ids at once, and an image that fails, with onError: 'original'
    const main = `import a from './bird.png?scale=2&upscale'; import b from './bird.png?upscale&scale=2'; import c from './woman.png?scale=2&upscale'; import d from './head.jpg?scale=2&upscale'; globalThis.result = { a, b, c, d }`
    const engine = {
      id: 'flaky',
      version: '1',
      enhance: async (r: { file: string, source: Buffer, scale: number }) => {
        if (r.file.endsWith('woman.png'))
          throw new Error('no')
        const { width } = await sharp(r.source).metadata()
        return { data: await sharp(r.source).resize({ width: 2 * width! }).toBuffer() }
      },
    }
    const { output } = await captureOutput(() => viteBuild(dir, main, { options: { engine: engine as never, onError: 'original' }, logLevel: 'info' }))
    const [, images, cached, enhanced, failed] = /(\d+) images: (\d+) cached, (\d+) enhanced.*, (\d+) failed/.exec(output)!.map(Number)
    expect({ images, cached, enhanced, failed }).toEqual({ images: 4, cached: 0, enhanced: 3, failed: 1 })
    expect((await lstat(join(dir, 'dist'))).isDirectory()).toBe(true)
  })
})
