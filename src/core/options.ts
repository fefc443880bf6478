import type { Options, ResolvedOptions } from '../types'
import type { RemoteSettings } from './cache/remote'
import { resolve } from 'node:path'
import { redactUrl } from './body'
import { defaultCacheDir } from './cache/layout'
import { UpscaleError } from './errors'
import { createFileFilter } from './filter'
import { resolvePresets } from './presets'
import { SCALES, TYPES } from './query'
import { compileRemotePatterns } from './remote-source'

export const DEFAULT_API_URL = 'https://api.gpt.ge'

/**
 * Every option, once, with its default (`undefined` where there is none, or where it comes from the
 * environment). TypeScript checks that no option of `Options` is missing here, and the list of
 * known option names is its keys.
 */
const DEFAULTS: { [K in keyof Required<Options>]: Options[K] } = {
  root: undefined,
  cacheDir: undefined,
  provider: 'auto',
  localMethod: 'learned',
  token: undefined,
  apiUrl: undefined,
  defaults: { scale: 'auto', type: 'clean' },
  presets: undefined,
  include: undefined,
  exclude: undefined,
  engine: undefined,
  sync: false,
  concurrency: 4,
  rateLimit: 2,
  timeout: 30_000,
  taskTimeout: 90_000,
  retries: 4,
  retryDelay: 1000,
  pollInterval: 1000,
  maxUploadBytes: 15 * 1024 * 1024,
  maxUploadSide: 4096,
  maxTasks: Infinity,
  maxOutputPixels: 50_000_000,
  maxResultBytes: 128 * 1024 * 1024,
  offline: undefined,
  onError: 'fail',
  maxAge: 180 * 24 * 3_600_000,
  maxSize: Infinity,
  logLevel: 'info',
  dryRun: undefined,
  publicUrl: undefined,
  callbackUrl: undefined,
  remoteCache: undefined,
  remotePatterns: undefined,
  remoteByUrl: 'https',
}
const KNOWN = Object.keys(DEFAULTS)

/** How each numeric option is checked: its smallest value, whole or not, and whether Infinity is allowed. */
const NUMBERS = {
  concurrency: { min: 1, integer: true, infinite: false },
  rateLimit: { min: 0.01, integer: false, infinite: true },
  timeout: { min: 1, integer: false, infinite: false },
  taskTimeout: { min: 1, integer: false, infinite: false },
  retries: { min: 0, integer: true, infinite: false },
  retryDelay: { min: 0, integer: false, infinite: false },
  pollInterval: { min: 0, integer: false, infinite: false },
  maxUploadBytes: { min: 1, integer: true, infinite: false },
  maxUploadSide: { min: 1, integer: true, infinite: false },
  maxTasks: { min: 0, integer: true, infinite: true },
  maxOutputPixels: { min: 1, integer: true, infinite: false },
  maxResultBytes: { min: 1, integer: true, infinite: false },
  maxAge: { min: 0, integer: false, infinite: true },
  maxSize: { min: 0, integer: false, infinite: true },
} as const
type NumberOption = keyof typeof NUMBERS

function fail(option: string, message: string): never {
  throw new UpscaleError(`option \`${option}\` ${message}`)
}

/** `quoted`: "must be 'a' or 'b'", for options whose values are only ever strings. */
function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], quoted = false): T {
  if (allowed.includes(value as T))
    return value as T
  const choices = quoted
    ? `${allowed.slice(0, -1).map(a => `'${a}'`).join(', ')} or '${allowed.at(-1)}'`
    : `one of ${allowed.join(', ')}`
  return fail(name, `must be ${choices} (got ${JSON.stringify(value)})`)
}

/** Fill in defaults and validate once; everything else reads the resolved object only. */
export function resolveOptions(
  options: Options = {},
  bundlerRoot: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new UpscaleError('options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key))
      fail(key, `is not an option of unplugin-upscale; the options are ${KNOWN.join(', ')}`)
  }
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v != null)) } as Options
  if (o.root !== undefined && (typeof o.root !== 'string' || o.root === ''))
    fail('root', 'must be a non-empty path')
  const root = resolve(bundlerRoot, o.root ?? '.')

  const provider = oneOf('provider', o.provider, ['auto', 'api', 'local'] as const)
  const localMethod = oneOf('localMethod', o.localMethod, ['learned', 'lanczos'] as const, true)
  for (const name of ['sync', 'dryRun', 'offline'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean')
      fail(name, `must be true or false (got ${JSON.stringify(o[name])})`)
  }
  const offline = o.offline ?? env.UPSCALE_OFFLINE === '1'
  const token = nonEmpty('token', o.token) ?? nonEmpty('UPSCALE_API_TOKEN', env.UPSCALE_API_TOKEN)
  if (provider === 'api' && !token && !offline)
    fail('provider', 'is \'api\' but no token is configured: set the `token` option or the UPSCALE_API_TOKEN environment variable, build '
    + 'offline from the cache (UPSCALE_OFFLINE=1), or use provider \'local\'')
  const logLevel = oneOf('logLevel', o.logLevel, ['silent', 'info', 'debug'] as const, true)
  const onError = oneOf('onError', o.onError, ['fail', 'original'] as const, true)
  const remoteByUrl = oneOf('remoteByUrl', o.remoteByUrl, ['https', 'always', 'never'] as const, true)

  const apiUrl = (nonEmpty('apiUrl', o.apiUrl) ?? nonEmpty('UPSCALE_API_URL', env.UPSCALE_API_URL) ?? DEFAULT_API_URL).replace(/\/+$/, '')
  const url = URL.canParse(apiUrl) ? new URL(apiUrl) : undefined
  if (url && (url.username || url.password)) {
    url.username = ''
    url.password = ''
    const shown = JSON.stringify(`${url.protocol}//***@${url.host}`)
    fail('apiUrl', `must not carry a user name or password (got ${shown}): give the API token as the \`token\` option or UPSCALE_API_TOKEN`)
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    fail('apiUrl', `must be an http(s) URL (got ${JSON.stringify(redactUrl(apiUrl))})`)

  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir === ''))
    fail('cacheDir', 'must be a non-empty path')
  const defaultCache = o.cacheDir === undefined ? defaultCacheDir(root) : undefined

  const scale = o.defaults?.scale ?? DEFAULTS.defaults!.scale!
  if (!SCALES.includes(String(scale) as never))
    fail('defaults.scale', `must be one of ${SCALES.join(', ')} (got ${JSON.stringify(scale)})`)
  const type = oneOf('defaults.type', o.defaults?.type ?? DEFAULTS.defaults!.type!, TYPES)

  const engine = o.engine
  if (engine !== undefined && (typeof engine.enhance !== 'function' || !engine.id || !engine.version))
    fail('engine', 'must have `id`, `version` and an `enhance` function')

  const numbers = {} as Record<NumberOption, number>
  for (const [name, rule] of Object.entries(NUMBERS) as Array<[NumberOption, typeof NUMBERS[NumberOption]]>) {
    const value = o[name]
    const whole = (n: number): boolean => !rule.integer || Number.isInteger(n)
    const finite = (n: number): boolean => (n === Infinity ? rule.infinite : Number.isFinite(n) && whole(n))
    const ok = typeof value === 'number' && value >= rule.min && finite(value)
    if (!ok) {
      const got = typeof value === 'number' ? value : JSON.stringify(value)
      const kind = rule.integer ? 'a whole number' : 'a number'
      fail(name, `must be ${kind} ≥ ${rule.min}${rule.infinite ? ' (or Infinity)' : ''} (got ${got})`)
    }
    numbers[name] = value
  }
  if (o.publicUrl !== undefined && typeof o.publicUrl !== 'function')
    fail('publicUrl', 'must be a function (file) => string | undefined')
  const callbackUrl = nonEmpty('callbackUrl', o.callbackUrl)
  if (callbackUrl !== undefined && !/^https?:\/\/[^/]/.test(callbackUrl))
    fail('callbackUrl', `must be an http(s) URL (got ${JSON.stringify(redactUrl(callbackUrl))})`)

  const remoteCache = resolveRemote(o.remoteCache, env)

  return {
    root,
    cacheDir: defaultCache?.dir ?? resolve(root, o.cacheDir!),
    legacyCacheDirs: defaultCache?.legacy ?? [],
    provider: provider === 'auto' ? (token ? 'api' : 'local') : provider,
    providerFallback: provider === 'auto' && !token,
    localMethod,
    token,
    apiUrl,
    defaults: { scale: scale === 'auto' ? 'auto' : Number(scale) as 1 | 2 | 4, type },
    presetFor: resolvePresets(o.presets, root),
    filter: createFileFilter(o.include, o.exclude, root),
    engine,
    sync: o.sync!,
    ...numbers,
    dryRun: o.dryRun ?? env.UPSCALE_DRY_RUN === '1',
    offline,
    onError,
    logLevel,
    publicUrl: o.publicUrl,
    callbackUrl,
    remoteCache,
    remotePatterns: compileRemotePatterns(o.remotePatterns),
    remoteByUrl,
  }
}

/** The remote tier from the option, else from the environment (so CI turns it on without a config change). */
function resolveRemote(option: Options['remoteCache'], env: NodeJS.ProcessEnv): RemoteSettings | undefined {
  const given = option ?? (env.UPSCALE_REMOTE_CACHE_URL
    ? {
        url: env.UPSCALE_REMOTE_CACHE_URL,
        protocol: env.UPSCALE_REMOTE_CACHE_PROTOCOL as 'turbo' | 'http' | undefined || undefined,
        token: env.UPSCALE_REMOTE_CACHE_TOKEN || undefined,
        team: env.UPSCALE_REMOTE_CACHE_TEAM || undefined,
        readOnly: env.UPSCALE_REMOTE_CACHE_READ_ONLY === '1',
      }
    : undefined)
  if (given === undefined)
    return undefined
  if (typeof given !== 'object' || given === null)
    fail('remoteCache', 'must be an object { url, protocol, token, team, readOnly, timeout, signatureKey }')
  const url = nonEmpty('remoteCache.url', given.url)
  const parsed = url && URL.canParse(url) ? new URL(url) : undefined
  if (parsed && (parsed.username || parsed.password))
    fail('remoteCache.url', `must not carry a user name or password (got "${parsed.protocol}//***@${parsed.host}"): give the token as `
    + `\`remoteCache.token\` or UPSCALE_REMOTE_CACHE_TOKEN`)
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:')
    fail('remoteCache.url', `must be an http(s) URL (got ${JSON.stringify(redactUrl(url ?? ''))})`)
  const protocol = oneOf('remoteCache.protocol', given.protocol ?? 'turbo', ['turbo', 'http'] as const, true)
  // Vercel takes no team for a personal account; turborepo-remote-cache needs one (it answers 400)
  const team = nonEmpty('remoteCache.team', given.team)
  if (given.readOnly !== undefined && typeof given.readOnly !== 'boolean')
    fail('remoteCache.readOnly', `must be true or false (got ${JSON.stringify(given.readOnly)})`)
  const timeout = given.timeout ?? 2000
  if (typeof timeout !== 'number' || !(timeout >= 1) || !Number.isFinite(timeout))
    fail('remoteCache.timeout', `must be a number ≥ 1 (got ${JSON.stringify(timeout)})`)
  const signatureKey = nonEmpty('remoteCache.signatureKey', given.signatureKey)
    ?? nonEmpty('UPSCALE_REMOTE_CACHE_SIGNATURE_KEY', env.UPSCALE_REMOTE_CACHE_SIGNATURE_KEY)
    ?? (protocol === 'turbo' ? nonEmpty('TURBO_REMOTE_CACHE_SIGNATURE_KEY', env.TURBO_REMOTE_CACHE_SIGNATURE_KEY) : undefined)
  const token = nonEmpty('remoteCache.token', given.token)
  return { url: url!, protocol, token, team, readOnly: given.readOnly ?? false, timeout, signatureKey }
}

function nonEmpty(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '')
    return undefined
  if (typeof value !== 'string')
    fail(name, 'must be a string')
  return value
}
