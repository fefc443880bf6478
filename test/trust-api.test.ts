import type { AddressInfo } from 'node:net'
import type { CacheRecord } from '../src/core/cache/record'
import { execFileSync } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { upscale } from '../src/api'
import { sealOf, sha256 } from '../src/core/cache/record'
import { packEntry } from '../src/core/cache/remote'
import { api, server } from './helpers/api'
import { tempProject, viteBuild } from './helpers/project'

const MAIN = `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`

/** An internal service the attacker wants in the bundle: counts every connection and request it gets. */
async function internal() {
  const stats = { connections: 0, requests: 0 }
  const secret = await sharp({ create: { width: 576, height: 576, channels: 3, background: '#0f0' } }).png().toBuffer()
  const s = createServer((_, res) => {
    stats.requests++
    res.writeHead(200, { 'content-type': 'image/png' }).end(secret)
  })
  s.on('connection', () => stats.connections++)
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>((r) => {
    s.closeAllConnections()
    s.close(() => r())
  }))
  return { port: (s.address() as AddressInfo).port, stats }
}

describe('the result URL policy: what a compromised API can make the build fetch', () => {
  it.each([
    ['an http URL on another port of the loopback', (port: number) => `http://127.0.0.1:${port}/secret.png`, /neither https nor on the API's own origin/],
    ['https to localhost (a name for the loopback)', (port: number) => `https://localhost:${port}/secret.png`, /resolves to an internal address/],
    ['https to a private address', () => 'https://10.0.0.7/secret.png', /internal address/],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/', /neither https nor/],
    ['a data: URL', () => `data:image/png;base64,${Buffer.from('x').toString('base64')}`, /neither https nor/],
    ['a file: URL', () => 'file:///etc/passwd', /neither https nor/],
  ])('%s is refused before a byte is sent, naming the URL and the image', async (_, target, why) => {
    const s = await server()
    const secret = await internal()
    s.inject({ imageUrl: target(secret.port) })
    const dir = await tempProject()
    const started = Date.now()
    const error = await viteBuild(dir, MAIN, api(s, { retries: 1 })).then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(why)
    expect(error?.message).toMatch(/cannot upscale src\/bird\.png\?scale=2&upscale/)
    expect(error?.message).toMatch(/result URL/)
    expect(secret.stats).toEqual({ connections: 0, requests: 0 })
    expect(s.stats.submits).toBe(1) // refused results are the task's end: not submitted again
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('a redirect from the API\'s own result URL to the internal service is refused at the hop', async () => {
    const s = await server()
    const secret = await internal()
    s.inject({ route: 'result', redirect: { status: 302, location: `http://127.0.0.1:${secret.port}/secret.png` } })
    const dir = await tempProject()
    const error = await viteBuild(dir, MAIN, api(s)).then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(/redirect 1 from/)
    expect(secret.stats).toEqual({ connections: 0, requests: 0 })
  })

  it('a submit answered with a 307 to another origin does not send the image there', async () => {
    const s = await server()
    const other = await internal()
    s.inject({ redirect: { status: 307, location: `http://127.0.0.1:${other.port}/task/pic/scale` } })
    const dir = await tempProject()
    const error = await viteBuild(dir, MAIN, api(s)).then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(/answered HTTP 307, a redirect .*never redirected/)
    expect(other.stats).toEqual({ connections: 0, requests: 0 })
  })

  it('a result without declared dimensions must be the source at the scale asked for', async () => {
    const s = await server()
    s.inject({ noDims: true, resultSize: [4000, 3000] })
    const dir = await tempProject()
    const error = await viteBuild(dir, MAIN, api(s)).then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(/4000×3000 px, which is no 2x of the 288×288 source; nothing was cached/)
    // and one of the right size, undeclared, is taken
    const t = await server()
    t.inject({ noDims: true })
    const ok = await viteBuild(await tempProject(), MAIN, api(t))
    expect(ok.result.a).toMatch(/bird@2x-/)
  })

  it('a Retry-After longer than taskTimeout ends the task at once (was: 46 s for 45, a day for 86400)', async () => {
    for (const retryAfter of [45, 86_400]) {
      const s = await server()
      s.inject({ route: 'poll', status: 429, retryAfter })
      const started = Date.now()
      const build = viteBuild(await tempProject(), MAIN, api(s, { taskTimeout: 10_000 }))
      const error = await build.then(() => undefined, (e: Error) => e)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(error?.message).toMatch(/Retry-After\), more than taskTimeout \(10 s\) leaves/)
    }
  })
})

describe('sources that are no image files', () => {
  it('a FIFO named x.png fails at once, in a build and through the JS API (was: a build hung forever)', async () => {
    const dir = await tempProject()
    execFileSync('mkfifo', [join(dir, 'src/x.png')])
    const started = Date.now()
    await expect(viteBuild(dir, `import a from './x.png?upscale'; globalThis.result = { a }`)).rejects.toThrow(/x\.png\?upscale.*not a regular file/)
    await expect(upscale(join(dir, 'src/x.png'), { cacheDir: join(dir, '.cache'), logLevel: 'silent' })).rejects.toThrow(/not a regular file/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('an animated PNG (APNG) fails with a clear error rather than being flattened to its first frame', async () => {
    const dir = await tempProject()
    const png = await readFile(join(dir, 'src/bird.png'))
    // an acTL chunk right after IHDR (8-byte signature + 25-byte IHDR chunk) makes it an APNG
    const body = Buffer.alloc(8)
    body.writeUInt32BE(2, 0)
    body.writeUInt32BE(0, 4)
    const chunk = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('acTL'), body, Buffer.alloc(4)])
    await writeFile(join(dir, 'src/anim.png'), Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]))
    await expect(viteBuild(dir, `import a from './anim.png?upscale'; globalThis.result = { a }`)).rejects.toThrow(/animated PNG \(APNG\)/)
  })
})

/** A loopback remote tier that serves `artifact` for `key`, takes uploads, and counts what it served. */
async function remoteServing(key: string, artifact: Buffer) {
  let served = 0
  const remote = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.includes(key)) {
      served++
      return res.writeHead(200).end(artifact)
    }
    req.resume()
    res.writeHead(req.method === 'PUT' ? 201 : 404).end()
  })
  await new Promise<void>(r => remote.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>(r => remote.close(() => r())))
  return { url: `http://127.0.0.1:${(remote.address() as AddressInfo).port}`, served: () => served }
}

const META = `import a from './bird.png?scale=2&as=metadata&upscale'; globalThis.result = { a }`

describe('remote-cache entries pass the checks API results pass', () => {
  it('an entry claiming 16000×16000 (or any size but source × scale) is refused, made again, and never emitted', async () => {
    // a real entry, then a forged one under its key: a valid seal and checksum, another size
    const first = await tempProject()
    await viteBuild(first, MAIN, { options: { provider: 'local' } })
    const cache = join(first, '.cache')
    const folder = (await readdir(cache)).find(f => /^[\da-f]{2}$/.test(f))!
    const recordFile = (await readdir(join(cache, folder))).find(f => f.endsWith('.json'))!
    const real = JSON.parse(await readFile(join(cache, folder, recordFile), 'utf8'))
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } }).png().toBuffer()
    const forged = { ...real, width: 16000, height: 16000, bytes: image.length, sha256: sha256(image) }
    delete forged.verified
    delete forged.seal
    forged.seal = sealOf(forged)
    const remote = await remoteServing(real.key, packEntry(forged, image))
    const dir = await tempProject()
    const { out, result } = await viteBuild(dir, MAIN, { options: { provider: 'local', remoteCache: { url: remote.url, protocol: 'http' } }, logLevel: 'info' })
    expect(remote.served()).toBe(1)
    const meta = await sharp(join(out, result.a)).metadata()
    expect(meta).toMatchObject({ width: 576, height: 576 })
  })
  it('what the source is comes from reading it, not from the remote record: a forged source in it changes nothing, warm or cold', async () => {
    const first = await tempProject()
    await viteBuild(first, META, { options: { provider: 'local' } })
    const cache = join(first, '.cache')
    // the enhancement's entry (not its placeholder's): the one whose record names its source
    let real = {} as CacheRecord
    let image: Buffer | undefined
    for (const folder of (await readdir(cache)).filter(f => /^[\da-f]{2}$/.test(f))) {
      for (const name of (await readdir(join(cache, folder))).filter(f => f.endsWith('.json'))) {
        const record = JSON.parse(await readFile(join(cache, folder, name), 'utf8'))
        if (record.params.source) {
          real = record
          image = await readFile(join(cache, folder, record.file))
        }
      }
    }
    // the right image and size, but a record that says the source was a 1×1 JPEG
    const forged: CacheRecord = { ...real, params: { ...real.params, source: { format: 'jpeg', width: 1, height: 1, depth: 8 } } }
    delete forged.verified
    delete forged.seal
    forged.seal = sealOf(forged)
    const remote = await remoteServing(real.key, packEntry(forged, image!))
    const dir = await tempProject()
    const options = { provider: 'local' as const, remoteCache: { url: remote.url, protocol: 'http' as const } }
    const cold = await viteBuild(dir, META, { options })
    // warm: from the disk cache the remote entry was written to, whose record takes no header read
    const warm = await viteBuild(dir, META, { options, outDir: 'again' })
    for (const { result } of [cold, warm])
      expect(result.a).toMatchObject({ width: 576, height: 576, originalWidth: 288, originalHeight: 288, format: 'png' })
  })
})
