import type { DiskCache } from './cache'
import type { Upscaler } from './upscaler'
import { isIP } from 'node:net'
import picomatch from 'picomatch'
import { Agent, fetch } from 'undici'
import { readBounded, redactUrl } from './body'
import { sha256 } from './cache/record'
import { guardedLookup, isInternal } from './engines/api/url-policy'
import { UpscaleError } from './errors'
import { inspect } from './image'

/**
 * A remote source the JS API and the CLI may fetch, in the shape other image tools use (Astro's
 * `image.remotePatterns`): `{ protocol: 'https', hostname: '**.example.com', pathname: '/media/**' }`.
 */
export interface RemotePattern {
  /** `'https'` or `'http'` (with or without the colon) @default either */
  protocol?: string
  /** `cms.example.com`; `*` stands for one label (`*.example.com`), `**` for any number */
  hostname: string
  /** @default any (the scheme's default port matches `''`) */
  port?: string
  /** a glob over the path: `*` within a segment, `**` across them @default '**' */
  pathname?: string
}

interface Compiled {
  pattern: RemotePattern
  host: RegExp
  path: (p: string) => boolean
  /** the host is written out (no wildcard): an internal address it resolves to is allowed */
  exact: boolean
}

const hostRegExp = (glob: string): RegExp => new RegExp(`^${glob.toLowerCase().split('.').map(label =>
  label === '**' ? '(?:[^.]+\\.)*[^.]+' : label === '*' ? '[^.]+' : label.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')).join('\\.')}$`)

/** Check `remotePatterns` once; errors name the option. */
export function compileRemotePatterns(option: unknown): Compiled[] {
  if (option === undefined)
    return []
  if (!Array.isArray(option))
    throw new UpscaleError('option `remotePatterns` must be an array of { protocol, hostname, port, pathname }')
  return option.map((pattern: RemotePattern, i) => {
    const name = `remotePatterns[${i}]`
    if (typeof pattern !== 'object' || pattern === null || typeof pattern.hostname !== 'string' || pattern.hostname === '')
      throw new UpscaleError(`option \`${name}\` must have a \`hostname\` (e.g. 'cms.example.com' or '**.example.com')`)
    for (const key of Object.keys(pattern)) {
      if (!['protocol', 'hostname', 'port', 'pathname'].includes(key))
        throw new UpscaleError(`option \`${name}\` has \`${key}\`; the keys are protocol, hostname, port and pathname`)
    }
    const protocol = pattern.protocol?.replace(/:$/, '')
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https')
      throw new UpscaleError(`option \`${name}.protocol\` must be 'https' or 'http' (got ${JSON.stringify(pattern.protocol)})`)
    if (pattern.port !== undefined && !/^\d{0,5}$/.test(String(pattern.port)))
      throw new UpscaleError(`option \`${name}.port\` must be a port number as a string, or '' (got ${JSON.stringify(pattern.port)})`)
    if (pattern.pathname !== undefined && (typeof pattern.pathname !== 'string' || !pattern.pathname.startsWith('/')))
      throw new UpscaleError(`option \`${name}.pathname\` must be a glob starting with / (got ${JSON.stringify(pattern.pathname)})`)
    return {
      pattern: { ...pattern, protocol },
      host: hostRegExp(pattern.hostname.replace(/^\[|\]$/g, '')),
      path: picomatch(pattern.pathname ?? '/**', { dot: true }),
      exact: !pattern.hostname.includes('*'),
    }
  })
}

export const isRemote = (input: string): boolean => /^https?:\/\//i.test(input)

/** The pattern a URL matches, or undefined. */
export function matchRemote(url: URL, patterns: Compiled[]): Compiled | undefined {
  const protocol = url.protocol.slice(0, -1)
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return patterns.find(({ pattern, host: h, path }) =>
    (pattern.protocol === undefined || pattern.protocol === protocol)
    && h.test(host)
    && (pattern.port === undefined || String(pattern.port) === url.port)
    && path(decodeURIComponent(url.pathname)))
}

export interface RemoteSettings {
  patterns: Compiled[]
  /** ms for the whole exchange, body included */
  timeout: number
  /** the largest body */
  maxBytes: number
  cache: DiskCache
  /** cache keys this build used (pruning keeps them) */
  used: Set<string>
  debug?: (line: string) => void
}

export interface RemoteSource {
  data: Buffer
  /** the URL the bytes came from (after any redirect) */
  url: string
  /** how the bytes were had: downloaded, or the cached copy confirmed by a 304 */
  via: 'download' | 'notModified'
}

/** The settings of an upscaler's remote sources: its patterns, its bounds, its cache. */
export function remoteSettings(upscaler: Upscaler): RemoteSettings {
  const { options, pipeline, report } = upscaler
  return {
    patterns: options.remotePatterns,
    timeout: options.timeout,
    maxBytes: options.maxUploadBytes,
    cache: pipeline.cache,
    used: pipeline.used,
    debug: line => report.debug(line),
  }
}

const MAX_HOPS = 5
const CACHED_FORMATS = new Set(['jpeg', 'png', 'webp', 'avif'])

/**
 * A remote source's bytes, within the bounds every body has (a deadline, a byte cap; the pixel
 * guard runs on the header before anything is decoded). The URL and each redirect must match
 * `remotePatterns`; an internal address (loopback, private, link-local, metadata) is refused
 * unless its host is written out in the pattern. The bytes are cached with their ETag and
 * Last-Modified, and a warm build asks with If-None-Match/If-Modified-Since.
 */
export async function fetchRemote(input: string, settings: RemoteSettings): Promise<RemoteSource> {
  const shown = (u: string): string => JSON.stringify(redactUrl(u).slice(0, 300))
  const key = sha256(JSON.stringify({ remoteSource: input }))
  const found = await settings.cache.lookup(key)
  const cached = 'entry' in found ? found.entry : undefined
  const headers: Record<string, string> = {}
  const etag = cached?.record.params.etag
  const lastModified = cached?.record.params.lastModified
  if (typeof etag === 'string')
    headers['if-none-match'] = etag
  if (typeof lastModified === 'string')
    headers['if-modified-since'] = lastModified

  let current = input
  for (let hop = 0; ; hop++) {
    const url = URL.canParse(current) ? new URL(current) : undefined
    const via = hop ? ` (redirected from ${shown(input)})` : ''
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw new UpscaleError(`${shown(current)}${via} is not an http(s) URL`)
    if (url.username || url.password)
      throw new UpscaleError(`${shown(current)}${via} carries a user name or password; remote sources are fetched without credentials`)
    const rule = matchRemote(url, settings.patterns)
    if (!rule) {
      throw new UpscaleError(`${shown(current)}${via} matches none of \`remotePatterns\`; to allow it, add e.g. `
        + `{ protocol: '${url.protocol.slice(0, -1)}', hostname: '${url.hostname}', pathname: '/**' } to the option \`remotePatterns\``)
    }
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (!rule.exact && isIP(host) && isInternal(host))
      throw new UpscaleError(`${shown(current)}${via} is an internal address; write it out in \`remotePatterns\` to allow it`)
    const res = await exchange(url, rule.exact ? host : '', hop === 0 ? headers : {}, settings)
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      const location = res.location
      if (!location)
        throw new UpscaleError(`${shown(current)} answered HTTP ${res.status} without a Location`)
      if (hop >= MAX_HOPS)
        throw new UpscaleError(`${shown(input)} redirected more than ${MAX_HOPS} times`)
      current = new URL(location, url).href
      continue
    }
    if (res.status === 304 && cached && hop === 0) {
      settings.used.add(key)
      await settings.cache.touch(key)
      return { data: cached.data, url: current, via: 'notModified' }
    }
    if (res.status !== 200)
      throw new UpscaleError(`${shown(current)}${via} answered HTTP ${res.status}; nothing was enhanced`)
    const data = res.body!
    const info = await inspect(data).catch((error: Error) => {
      throw new UpscaleError(`${shown(current)}${via} is not an image (${error.message})`)
    })
    if (CACHED_FORMATS.has(info.format)) {
      await settings.cache.put(key, data, {
        width: info.width,
        height: info.height,
        format: info.format,
        provider: 'remote-source',
        providerVersion: '1',
        params: { url: input, etag: res.etag, lastModified: res.lastModified },
      }).catch(() => {})
      settings.used.add(key)
    }
    return { data, url: current, via: 'download' }
  }
}

interface Exchange { status: number, location?: string, etag?: string, lastModified?: string, body?: Buffer }

/** One GET; `allowedHost`: the host whose internal addresses may be connected to ('' for none). */
async function exchange(url: URL, allowedHost: string, headers: Record<string, string>, settings: RemoteSettings) {
  const { timeout, maxBytes } = settings
  const shown = JSON.stringify(redactUrl(url.href).slice(0, 300))
  const agent = new Agent({
    connect: { timeout, lookup: guardedLookup(allowedHost || '\0', 'remote sources are not fetched from there unless `remotePatterns` '
    + 'names the host itself') as never },
    headersTimeout: timeout,
    bodyTimeout: timeout,
  })
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeout)
  const started = Date.now()
  try {
    const res = await fetch(url, { headers, dispatcher: agent, signal: controller.signal, redirect: 'manual' })
    const out: Exchange = {
      status: res.status,
      location: res.headers.get('location') ?? undefined,
      etag: res.headers.get('etag') ?? undefined,
      lastModified: res.headers.get('last-modified') ?? undefined,
    }
    if (res.status === 200) {
      const announced = Number(res.headers.get('content-length') ?? 0)
      const tooLarge = (): Error =>
        new UpscaleError(`${shown} is larger than ${(maxBytes / 1e6).toFixed(1)} MB (option \`maxUploadBytes\`)`)
      if (announced > maxBytes)
        throw tooLarge()
      out.body = await readBounded(res.body as AsyncIterable<Uint8Array>, maxBytes, tooLarge)
    }
    else {
      await res.body?.cancel().catch(() => {})
    }
    settings.debug?.(`GET ${redactUrl(url.href)} → ${res.status} (${out.body?.length ?? 0} bytes, ${Date.now() - started} ms)`)
    return out
  }
  catch (error) {
    if (error instanceof UpscaleError)
      throw error
    if (controller.signal.aborted)
      throw new UpscaleError(`${shown} did not answer in full within ${timeout / 1000} s (option \`timeout\`)`)
    const e = error as Error & { cause?: { code?: string, message?: string } }
    if (e.cause?.code === 'EADDRREFUSED_BY_POLICY')
      throw new UpscaleError(`${shown}: ${e.cause.message}`)
    throw new UpscaleError(`${shown} could not be fetched (${e.cause?.code ?? e.cause?.message ?? e.message})`)
  }
  finally {
    clearTimeout(timer)
    await agent.close().catch(() => {})
  }
}
