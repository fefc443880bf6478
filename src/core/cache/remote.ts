import type { CacheRecord } from './record'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { Agent, request } from 'undici'
import { readBounded, redact } from '../body'
import { readOutputMeta } from '../image'
import { parseRecord, sha256 } from './record'

/** The remote tier's settings, resolved (see the `remoteCache` option). */
export interface RemoteSettings {
  url: string
  protocol: 'turbo' | 'http'
  token: string | undefined
  team: string | undefined
  readOnly: boolean
  /** ms one request may take; the breaker opens on the first failure, so a build loses at most this */
  timeout: number
  /** HMAC-SHA256 key: artifacts are signed, and only signed ones are used */
  signatureKey?: string
}

/** What a build did with the remote tier, for its summary and `cache stats`. */
export interface RemoteStats {
  hits: number
  misses: number
  uploads: number
  rejected: number
  off?: string
  /** no signature key: whoever can write to the remote decides what is used */
  unsigned?: boolean
}

/**
 * The tag of an artifact: base64 HMAC-SHA256, keyed by the signature key, over the artifact's key,
 * then the team, then its bytes; Turborepo's `x-artifact-tag` (TURBO_REMOTE_CACHE_SIGNATURE_KEY),
 * so a signed Turborepo cache takes these artifacts as it takes its own.
 */
export function artifactTag(signatureKey: string, key: string, team: string, body: Uint8Array): string {
  return createHmac('sha256', signatureKey).update(key).update(team).update(body).digest('base64')
}

function tagsMatch(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** For the `http` protocol, which keeps no headers, the tag travels in front of the artifact. */
const SIGNED = 'unplugin-upscale-signed-1 '

/** One artifact: a first line naming the format, the entry's record as a line of JSON, the image. */
const MAGIC = 'unplugin-upscale-entry-1\n'

export function packEntry(record: CacheRecord, image: Uint8Array): Buffer {
  const { verified: _verified, ...portable } = record
  return Buffer.concat([Buffer.from(MAGIC), Buffer.from(`${JSON.stringify(portable)}\n`), image])
}

type Unpacked = { record: CacheRecord, image: Buffer } | { corrupt: string }

/**
 * An artifact read back: its record (sealed, for this key) and its image (the size and SHA-256
 * the record says, and a header that decodes to the record's size and format); else why not.
 */
export async function unpackEntry(
  blob: Buffer,
  key: string,
  accept?: (record: CacheRecord) => string | undefined,
): Promise<Unpacked> {
  if (!blob.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)))
    return { corrupt: 'it is not an unplugin-upscale entry' }
  const end = blob.indexOf(10, MAGIC.length)
  if (end < 0)
    return { corrupt: 'its record is cut short' }
  const parsed = parseRecord(blob.subarray(MAGIC.length, end).toString('utf8'), key)
  if (!('record' in parsed))
    return { corrupt: 'corrupt' in parsed ? parsed.corrupt : 'its record is of another cache format' }
  const { record } = parsed
  // what the caller refuses (too many pixels, the wrong size) is refused before the image is read
  const refused = accept?.(record)
  if (refused)
    return { corrupt: refused }
  const image = blob.subarray(end + 1)
  if (image.length !== record.bytes || sha256(image) !== record.sha256)
    return { corrupt: 'its image does not match the checksum in its record' }
  const header = await readOutputMeta(image).catch(() => undefined)
  if (header?.width !== record.width || header.height !== record.height || header.format !== record.format)
    return { corrupt: 'its image does not decode to the size and format in its record' }
  return { record, image }
}

class RemoteFailure extends Error {}

const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024

/**
 * A shared cache behind the disk cache, over one of two wire formats: Turborepo's remote cache API
 * (`/v8/artifacts/<key>?teamId=…`, Bearer token), or plain GET/PUT of `<url>/<key>` (nginx WebDAV,
 * object stores behind a proxy). A remote that fails once (down, slow, 5xx, refused) is left alone
 * for the rest of the build, so it costs a build at most one `timeout`; the reason is reported once.
 */
export class RemoteCache {
  readonly stats: RemoteStats
  private agent: Agent | undefined

  constructor(private readonly settings: RemoteSettings, private readonly warn: (message: string) => void) {
    this.stats = { hits: 0, misses: 0, uploads: 0, rejected: 0, ...(settings.signatureKey ? {} : { unsigned: true }) }
  }

  get off(): boolean {
    return this.stats.off !== undefined
  }

  /** The artifact of a key, or undefined (a miss, or the remote is off). Never throws. */
  async get(key: string): Promise<Buffer | undefined> {
    if (this.off)
      return undefined
    try {
      const res = await this.send('GET', key)
      if (res.status === 404) {
        this.stats.misses++
        return undefined
      }
      if (res.status !== 200)
        throw new RemoteFailure(`GET answered HTTP ${res.status}`)
      this.stats.hits++
      const { body, tag } = this.unwrap(res)
      const { signatureKey } = this.settings
      if (signatureKey) {
        const why = !tag
          ? 'it is not signed'
          : !tagsMatch(tag, artifactTag(signatureKey, key, this.settings.team ?? '', body))
              ? 'its signature does not match (another key, '
              + 'or an artifact made for another key)'
              : undefined
        if (why) {
          this.rejected(key, why)
          return undefined
        }
      }
      return body
    }
    catch (error) {
      this.turnOff(error)
      return undefined
    }
  }

  /** Upload an artifact; a failure warns once and turns the remote off, never more. */
  async put(key: string, blob: Buffer): Promise<void> {
    if (this.off || this.settings.readOnly)
      return
    try {
      const { signatureKey, team, protocol } = this.settings
      const tag = signatureKey ? artifactTag(signatureKey, key, team ?? '', blob) : undefined
      const body = tag && protocol === 'http' ? Buffer.concat([Buffer.from(`${SIGNED}${tag}\n`), blob]) : blob
      const res = await this.send('PUT', key, body, tag && protocol === 'turbo' ? { 'x-artifact-tag': tag } : {})
      if (res.status < 200 || res.status >= 300)
        throw new RemoteFailure(`PUT answered HTTP ${res.status}`)
      this.stats.uploads++
    }
    catch (error) {
      this.turnOff(error)
    }
  }

  /** An artifact that failed verification: counted, and replaced by the caller's upload. */
  rejected(key: string, why: string): void {
    this.stats.rejected++
    this.warn(`[unplugin-upscale] The remote cache's entry ${key.slice(0, 12)}… is not used: ${why}; it is made again and replaced.`)
  }

  async close(): Promise<void> {
    const agent = this.agent
    this.agent = undefined
    await agent?.close()
  }

  /** The artifact and its tag: Turborepo's header, or the line in front of an `http` artifact. */
  private unwrap(res: { body: Buffer, tag?: string }): { body: Buffer, tag?: string } {
    if (res.body.subarray(0, SIGNED.length).toString('latin1') === SIGNED) {
      const end = res.body.indexOf(10)
      return { body: res.body.subarray(end + 1), tag: res.body.subarray(SIGNED.length, end).toString('latin1') }
    }
    return { body: res.body, tag: this.settings.protocol === 'turbo' ? res.tag : undefined }
  }

  private url(key: string): string {
    const base = this.settings.url.replace(/\/+$/, '')
    if (this.settings.protocol === 'http')
      return `${base}/${key}`
    const { team: name } = this.settings
    const team = name ? `?${/^team_/.test(name) ? 'teamId' : 'slug'}=${encodeURIComponent(name)}` : ''
    return `${base}/v8/artifacts/${key}${team}`
  }

  private async send(
    method: 'GET' | 'PUT',
    key: string,
    body?: Buffer,
    extra: Record<string, string> = {},
  ): Promise<{ status: number, body: Buffer, tag?: string }> {
    const { timeout, token } = this.settings
    this.agent ??= new Agent({
      connect: { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 4_000,
    })
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new RemoteFailure(`no answer within ${timeout / 1000} s`)), timeout)
    try {
      const res = await request(this.url(key), {
        method,
        body,
        dispatcher: this.agent,
        signal: controller.signal,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/octet-stream' } : {}),
          ...extra,
        },
      })
      // an artifact is one image and its record: bounded like an API result
      const tooLarge = (): Error => new RemoteFailure(`${method} answered with more than ${MAX_ARTIFACT_BYTES} bytes`)
      if (Number(res.headers['content-length']) > MAX_ARTIFACT_BYTES) {
        res.body.destroy()
        throw tooLarge()
      }
      const tag = res.headers['x-artifact-tag']
      const answer = await readBounded(res.body, MAX_ARTIFACT_BYTES, tooLarge)
      return { status: res.statusCode, body: answer, tag: typeof tag === 'string' ? tag : undefined }
    }
    catch (error) {
      if (controller.signal.aborted)
        throw controller.signal.reason
      throw new RemoteFailure((error as Error & { code?: string }).code ?? (error as Error).message)
    }
    finally {
      clearTimeout(timer)
    }
  }

  private turnOff(error: unknown): void {
    if (this.off)
      return
    const why = this.redact((error as Error).message)
    this.stats.off = why
    this.warn(`[unplugin-upscale] The remote cache (${this.redact(this.settings.url)}) failed (${why}); this build goes on without it.`)
  }

  private redact(text: string): string {
    return redact(text, this.settings.token)
  }
}
