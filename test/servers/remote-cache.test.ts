// The remote tier against the real servers teams run (`npm run test:servers`; .ci/run installs
// nginx and turborepo-remote-cache): three CI runners, each a process with its own empty disk
// cache, pay the API once per image between them.
import type { RemoteServer } from '../helpers/remote-servers'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { sealOf, sha256 } from '../../src/core/cache/record'
import { packEntry } from '../../src/core/cache/remote'
import { apiOptions, server } from '../helpers/api'
import { childBuild, listFiles, tempProject } from '../helpers/project'
import { startNginx, startTurboCache } from '../helpers/remote-servers'

const THREE = `import a from './bird.png?scale=2&upscale'
import b from './woman.png?scale=2&upscale'
import c from './head.jpg?scale=2&upscale'
globalThis.result = { a, b, c }
`

const SERVERS: Record<string, { start: (o?: { signed?: boolean }) => Promise<RemoteServer>, protocol: 'turbo' | 'http' }> = {
  'nginx (WebDAV PUT)': { start: startNginx, protocol: 'http' },
  'turborepo-remote-cache': { start: startTurboCache, protocol: 'turbo' },
}

/** One CI runner: a fresh checkout (its own disk cache) building in its own process. */
async function runner(dir: string, name: string, options: object) {
  const r = await childBuild(dir, { ...options, cacheDir: join(dir, `.cache-${name}`) }, `dist-${name}`).done
  expect(r.code, r.output).toBe(0)
  const assets = (await readdir(join(dir, `dist-${name}`, 'assets'))).filter(f => !f.endsWith('.js')).sort()
  const bytes = await Promise.all(assets.map(f => readFile(join(dir, `dist-${name}`, 'assets', f))))
  return { output: r.output, assets, bytes }
}

/** The plugin's `remoteCache` option for a server. */
const settings = (remote: RemoteServer, protocol: 'turbo' | 'http') => ({ url: remote.url, protocol, token: remote.token, team: remote.team })

/** The artifact files the server keeps. */
const stored = async (remote: RemoteServer) => (await listFiles(remote.storage)).filter(f => !f.endsWith('.tmp') && !f.endsWith('.tag'))

describe.each(Object.keys(SERVERS))('the remote cache on %s', (name) => {
  const { start, protocol } = SERVERS[name]

  it('three runners in sequence pay once per image, and build byte-identical output', { timeout: 120_000 }, async () => {
    const remote = await start()
    const api = await server()
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), THREE)
    const options = { ...apiOptions(api), remoteCache: settings(remote, protocol) }

    const first = await runner(dir, 'one', options)
    expect(api.stats.submits).toBe(3)
    expect(first.output).toMatch(/remote cache: 0 hits, 3 missed, 3 uploads/)
    expect(await stored(remote)).toHaveLength(3)
    const second = await runner(dir, 'two', options)
    const third = await runner(dir, 'three', options)
    expect(api.stats.submits).toBe(3)
    expect(second.output).toMatch(/3 images: 3 cached, 0 enhanced, 0 failed .* 0 billable tasks · remote cache: 3 hits, 0 missed, 0 uploads/)
    expect(second.assets).toEqual(first.assets)
    expect(third.assets).toEqual(first.assets)
    second.bytes.forEach((b, i) => expect(b.equals(first.bytes[i])).toBe(true))
    third.bytes.forEach((b, i) => expect(b.equals(first.bytes[i])).toBe(true))
    // the token reached no log of any runner
    if (remote.token)
      expect(first.output + second.output + third.output).not.toContain(remote.token)
  })

  it('a corrupted remote object is detected, not used, reported, and replaced', { timeout: 120_000 }, async () => {
    const remote = await start()
    const api = await server()
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), `import a from './bird.png?scale=2&upscale'\nglobalThis.result = { a }\n`)
    const options = { ...apiOptions(api), remoteCache: settings(remote, protocol) }
    await runner(dir, 'one', options)
    const [object] = await stored(remote)
    const bytes = await readFile(object)
    bytes[bytes.length - 40] ^= 0xFF
    await writeFile(object, bytes)

    const second = await runner(dir, 'two', options)
    expect(second.output).toMatch(/The remote cache's entry [\da-f]{12}… is not used: .*bird\.png: its image does not match the checksum in its record; it is made again and replaced/)
    expect(api.stats.submits).toBe(2)
    expect(second.output).toMatch(/remote cache: 1 hit, 0 missed, 1 upload, 1 rejected/)
    // replaced: the next runner takes it as it is
    const third = await runner(dir, 'three', options)
    expect(api.stats.submits).toBe(2)
    expect(third.output).toMatch(/remote cache: 1 hit, 0 missed, 0 uploads/)
  })

  it('signed: a runner with the key uses signed artifacts; one rewritten by a writer without the key is refused and replaced', { timeout: 120_000 }, async () => {
    const remote = await start({ signed: true })
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), `import a from './bird.png?scale=2&upscale'\nglobalThis.result = { a }\n`)
    const signed = { provider: 'local', remoteCache: { ...settings(remote, protocol), signatureKey: 'the-team-secret' } }
    const one = await runner(dir, 'one', signed)
    expect(one.output).toMatch(/remote cache: 0 hits, 1 missed, 1 upload/)
    expect(one.output).not.toMatch(/unsigned/)
    const two = await runner(dir, 'two', signed)
    expect(two.output).toMatch(/1 image: 1 cached, 0 enhanced.*remote cache: 1 hit, 0 missed, 0 uploads/)

    // the object, rewritten as a writer of the storage without the key would: a real, sealed entry of another image
    const [object] = await stored(remote)
    let text = await readFile(object)
    if (text.subarray(0, 26).toString() === 'unplugin-upscale-signed-1 ')
      text = text.subarray(text.indexOf(10) + 1)
    const recordEnd = text.indexOf(10, text.indexOf(10) + 1)
    const record = JSON.parse(text.subarray(text.indexOf(10) + 1, recordEnd).toString())
    const image = await sharp({ create: { width: 576, height: 576, channels: 3, background: '#f0f' } }).png().toBuffer()
    const forged = { ...record, bytes: image.length, sha256: sha256(image) }
    delete forged.verified
    forged.seal = sealOf(forged)
    await writeFile(object, packEntry(forged, image))
    const three = await runner(dir, 'three', signed)
    expect(three.output).toMatch(/is not used: .*(it is not signed|its signature does not match)/)
    expect(three.output).toMatch(/remote cache: 1 hit, 0 missed, 1 upload, 1 rejected/)
    expect(three.bytes.some(b => b.equals(image))).toBe(false)
    // replaced by a signed one: the next runner takes it
    const four = await runner(dir, 'four', signed)
    expect(four.output).toMatch(/remote cache: 1 hit, 0 missed, 0 uploads/)
  })

  it('readOnly downloads and never uploads', { timeout: 120_000 }, async () => {
    const remote = await start()
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), `import a from './bird.png?scale=2&upscale'\nglobalThis.result = { a }\n`)
    const r = await runner(dir, 'fork', { provider: 'local', remoteCache: { ...settings(remote, protocol), readOnly: true } })
    expect(r.output).toMatch(/remote cache: 0 hits, 1 missed, 0 uploads/)
    expect(await stored(remote)).toEqual([])
  })
})
