// The remote tier when the remote misbehaves (small fault servers on 127.0.0.1; the real servers
// are in test/servers/): the build stays correct, loses at most one `timeout`, and says so once.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { resolveOptions } from '../src/core/options'
import { captureOutput, emitted, listFiles, tempProject, viteBuild } from './helpers/project'
import { freePort } from './helpers/remote-servers'

const FOUR = ['bird.png', 'woman.png', 'head.jpg', 'butterfly.png']
  .map((f, i) => `import i${i} from './${f}?scale=2&upscale'`).join('\n').concat('\nglobalThis.result = { i0, i1, i2, i3 }')

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function faulty(handler: Handler): Promise<{ url: string, requests: string[] }> {
  const requests: string[] = []
  const s = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`)
    handler(req, res)
  })
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>((r) => {
    s.closeAllConnections()
    s.close(() => r())
  }))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests }
}

describe('a remote cache that misbehaves leaves the build correct and quick', () => {
  it.each<[string, () => Promise<string>, RegExp]>([
    ['down (connection refused)', async () => `http://127.0.0.1:${await freePort()}`, /off: ECONNREFUSED/],
    ['slow (never answers)', async () => (await faulty(() => {})).url, /off: no answer within 1 s/],
    ['answering 500', async () => (await faulty((_, res) => res.writeHead(500).end('boom'))).url, /off: GET answered HTTP 500/],
    ['answering 403', async () => (await faulty((_, res) => res.writeHead(403).end('no'))).url, /off: GET answered HTTP 403/],
  ])('%s', async (_, url, why) => {
    const dir = await tempProject()
    const remoteCache = { url: await url(), protocol: 'http' as const, token: 'remote-secret-token', timeout: 1000 }
    const started = Date.now()
    const { output, result } = await captureOutput(() => viteBuild(dir, FOUR, { options: { provider: 'local', remoteCache }, logLevel: 'info' }))
    const seconds = (Date.now() - started) / 1000
    expect(result, output).toBeDefined()
    for (const url of Object.values(result!.result))
      expect((await emitted(result!.out, url as string)).width).toBeGreaterThan(400)
    // said once, in a warning and in the summary
    expect(output.match(/The remote cache \(.*\) failed/g)).toHaveLength(1)
    expect(output).toMatch(why)
    expect(output).toMatch(/4 images: 0 cached, 4 enhanced \(4 local\), 0 failed .* remote cache: 0 hits/)
    expect(output).not.toContain('remote-secret-token')
    // at most one timeout lost, whatever the remote did
    expect(seconds).toBeLessThan(1 + 5)
    console.info(`remote ${_}: build took ${seconds.toFixed(1)} s`)
  })

  it('sends the token to the remote only, and keeps it out of the cache', async () => {
    const remote = await faulty((_, res) => res.writeHead(404).end())
    const dir = await tempProject()
    await viteBuild(dir, `import a from './bird.png?scale=2&upscale'; globalThis.result = { a }`, { options: { provider: 'local', remoteCache: { url: remote.url, protocol: 'turbo', token: 'remote-secret-token', team: 'team_abc' } } })
    expect(remote.requests[0]).toMatch(/^GET \/v8\/artifacts\/[\da-f]{64}\?teamId=team_abc Bearer remote-secret-token$/)
    expect(remote.requests[1]).toMatch(/^PUT \/v8\/artifacts\/[\da-f]{64}\?teamId=team_abc Bearer remote-secret-token$/)
    for (const file of await listFiles(join(dir, '.cache')))
      expect((await readFile(file)).includes('remote-secret-token'), file).toBe(false)
  })
})

describe('the remoteCache option', () => {
  it('comes from the environment, so CI turns it on without a config change', () => {
    const env = { UPSCALE_REMOTE_CACHE_URL: 'https://cache.example.test', UPSCALE_REMOTE_CACHE_PROTOCOL: 'turbo', UPSCALE_REMOTE_CACHE_TOKEN: 't', UPSCALE_REMOTE_CACHE_TEAM: 'my-team', UPSCALE_REMOTE_CACHE_READ_ONLY: '1' }
    expect(resolveOptions({}, '/p', env).remoteCache).toEqual({ url: 'https://cache.example.test', protocol: 'turbo', token: 't', team: 'my-team', readOnly: true, timeout: 2000 })
    expect(resolveOptions({}, '/p', {}).remoteCache).toBeUndefined()
  })

  it.each([
    [{ url: 'ftp://x' }, /option `remoteCache.url` must be an http\(s\) URL/],
    [{ url: 'https://u:pw@x', protocol: 'http' }, /option `remoteCache.url` must not carry a user name or password \(got "https:\/\/\*\*\*@x"\)/],
    [{ url: 'https://x', protocol: 'http', team: 7 }, /option `remoteCache.team` must be a string/],
    [{ url: 'https://x', protocol: 's3' }, /option `remoteCache.protocol` must be 'turbo' or 'http'/],
    [{ url: 'https://x', protocol: 'http', readOnly: 'yes' }, /option `remoteCache.readOnly` must be true or false/],
  ])('refuses %j', (remoteCache, message) => {
    expect(() => resolveOptions({ remoteCache: remoteCache as never }, '/p', {})).toThrow(message)
  })
})
