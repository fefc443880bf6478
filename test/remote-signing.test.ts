import type { AddressInfo } from 'node:net'
import type { Options } from '../src/types'
import { createHmac } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { packEntry } from '../src/core/cache/remote'
import { captureOutput, tempProject, viteBuild } from './helpers/project'

const MAIN = `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`
const TEAM = 'team_upscale'

/** A remote cache that keeps what is PUT (body and x-artifact-tag, as Turborepo's servers do) and serves it back. */
async function store() {
  const artifacts = new Map<string, { body: Buffer, tag?: string }>()
  const s = createServer(async (req, res) => {
    const key = new URL(req.url!, 'http://x').pathname.split('/').pop()!
    if (req.method === 'PUT') {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      artifacts.set(key, { body: Buffer.concat(chunks), tag: req.headers['x-artifact-tag'] as string | undefined })
      return res.writeHead(200).end('{}')
    }
    const found = artifacts.get(key)
    if (!found)
      return res.writeHead(404).end()
    res.writeHead(200, found.tag ? { 'x-artifact-tag': found.tag } : {}).end(found.body)
  })
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>(r => s.close(() => r())))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, artifacts }
}

async function build(remoteCache: NonNullable<Options['remoteCache']>, main = MAIN) {
  const dir = await tempProject()
  const { output, result, error } = await captureOutput(() => viteBuild(dir, main, { options: { provider: 'local', remoteCache }, logLevel: 'info' }))
  if (error)
    throw error
  const { out, result: r } = result!
  return { output, dir, meta: await sharp(join(out, r.a)).metadata(), data: await readFile(join(out, r.a)) }
}

/** A forged artifact for the victim's key: a real, sealed entry holding another image. */
async function forgedFor(dir: string): Promise<{ key: string, blob: Buffer, image: Buffer }> {
  const cache = join(dir, '.cache')
  const folder = (await readdir(cache)).find(f => /^[\da-f]{2}$/.test(f))!
  const name = (await readdir(join(cache, folder))).find(f => f.endsWith('.json'))!
  const record = JSON.parse(await readFile(join(cache, folder, name), 'utf8'))
  const { sealOf, sha256 } = await import('../src/core/cache/record')
  const image = await sharp({ create: { width: 576, height: 576, channels: 3, background: '#f0f' } }).png().toBuffer()
  const forged = { ...record, bytes: image.length, sha256: sha256(image) }
  delete forged.verified
  forged.seal = sealOf(forged)
  return { key: record.key, blob: packEntry(forged, image), image }
}

describe.each(['turbo', 'http'] as const)('signed remote entries (%s protocol)', (protocol) => {
  it('a signed entry is used by a runner with the same key; an unsigned, wrongly signed or re-keyed one never is', async () => {
    const remote = await store()
    const settings = { url: remote.url, protocol, team: TEAM, signatureKey: 'the-team-secret' }
    const first = await build(settings)
    expect(first.output).toMatch(/remote cache: 0 hits, 1 missed, 1 upload/)
    expect(first.output).not.toMatch(/unsigned/)
    const again = await build(settings)
    expect(again.output).toMatch(/1 image: 1 cached, 0 enhanced.* remote cache: 1 hit/)

    // what a writer of the cache can do without the key: forge, sign with another key, re-key
    const { key, blob, image } = await forgedFor(first.dir)
    const attacks: Array<[string, { body: Buffer, tag?: string }]> = [
      ['unsigned', { body: blob }],
      ['another key', { body: blob, tag: createHmac('sha256', 'not-the-key').update(key).update(TEAM).update(blob).digest('base64') }],
    ]
    // a genuine, signed artifact of another image, copied under this key
    await build(settings, `import a from './head.jpg?scale=2&upscale'; globalThis.result = { a }`)
    const other = [...remote.artifacts].find(([k]) => k !== key)!
    attacks.push(['re-keyed', other[1]])
    expect(attacks).toHaveLength(3)
    for (const [what, artifact] of attacks) {
      // the http protocol carries the tag in front of the artifact
      const signedHttp = protocol === 'http' && artifact.tag !== undefined
      const stored = signedHttp ? { body: Buffer.concat([Buffer.from(`unplugin-upscale-signed-1 ${artifact.tag}\n`), artifact.body]) } : artifact
      remote.artifacts.set(key, stored)
      const victim = await build(settings)
      expect(victim.output, what).toMatch(what === 'unsigned' ? /is not used: .*it is not signed/ : /is not used: .*its signature does not match/)
      expect(victim.output, what).toMatch(/1 image: 0 cached, 1 enhanced.* 1 rejected/)
      expect(victim.data.equals(image), what).toBe(false)
      // and it was replaced by a genuine one
      const now = remote.artifacts.get(key)!
      expect(now.body.includes(image), what).toBe(false)
    }
  })
})

describe('signing interoperates with Turborepo and says when it is off', () => {
  it('the turbo protocol sends Turborepo\'s x-artifact-tag: base64 HMAC-SHA256 over hash ‖ teamId ‖ body', async () => {
    const remote = await store()
    await build({ url: remote.url, protocol: 'turbo', team: TEAM, signatureKey: 'k' })
    const [[key, { body, tag }]] = [...remote.artifacts]
    // the bytes Turborepo's own client signs (crates/turborepo-cache, signature_authentication.rs)
    const expected = createHmac('sha256', Buffer.from('k')).update(Buffer.concat([Buffer.from(key), Buffer.from(TEAM), body])).digest('base64')
    expect(tag).toBe(expected)
  })

  it('TURBO_REMOTE_CACHE_SIGNATURE_KEY turns it on for the turbo protocol', async () => {
    const remote = await store()
    process.env.TURBO_REMOTE_CACHE_SIGNATURE_KEY = 'from-turbo-env'
    onTestFinished(() => {
      delete process.env.TURBO_REMOTE_CACHE_SIGNATURE_KEY
    })
    await build({ url: remote.url, protocol: 'turbo', team: TEAM })
    const [[key, { body, tag }]] = [...remote.artifacts]
    expect(tag).toBe(createHmac('sha256', 'from-turbo-env').update(key + TEAM).update(body).digest('base64'))
  })

  it('without a key the summary says "unsigned"', async () => {
    const remote = await store()
    const { output } = await build({ url: remote.url, protocol: 'http' })
    expect(output).toMatch(/remote cache: 0 hits, 1 missed, 1 upload, unsigned/)
  })
})
