import type { Options, ResolvedOptions, Scale } from '../types'
import { resolve } from 'node:path'
import { UpscaleError } from './errors'
import { createFileFilter } from './filter'
import { SCALES, TYPES } from './query'

export const DEFAULT_API_URL = 'https://api.gpt.ge'
export const DEFAULT_CACHE_DIR = 'node_modules/.cache/unplugin-upscale'
const PROVIDERS = ['auto', 'api', 'local']
const NUMBERS = {
  concurrency: { default: 4, min: 1, integer: true, infinite: false },
  rateLimit: { default: 2, min: 0.01, integer: false, infinite: true },
  timeout: { default: 30_000, min: 1, integer: false, infinite: false },
  taskTimeout: { default: 90_000, min: 1, integer: false, infinite: false },
  retries: { default: 4, min: 0, integer: true, infinite: false },
  retryDelay: { default: 1000, min: 0, integer: false, infinite: false },
  pollInterval: { default: 1000, min: 0, integer: false, infinite: false },
  maxUploadBytes: { default: 15 * 1024 * 1024, min: 1, integer: true, infinite: false },
  maxUploadSide: { default: 4096, min: 1, integer: true, infinite: false },
  maxTasks: { default: Infinity, min: 0, integer: true, infinite: true },
  maxAge: { default: 180 * 24 * 3_600_000, min: 0, integer: false, infinite: true },
  maxSize: { default: Infinity, min: 0, integer: false, infinite: true },
} as const
type NumberOption = keyof typeof NUMBERS
const KNOWN = new Set(['root', 'cacheDir', 'provider', 'token', 'apiUrl', 'defaults', 'include', 'exclude', 'engine', 'sync', 'dryRun', 'offline', 'onError', 'logLevel', 'publicUrl', 'callbackUrl', ...Object.keys(NUMBERS)])

function fail(option: string, message: string): never {
  throw new UpscaleError(`option \`${option}\` ${message}`)
}

/** Fill in defaults and validate once; everything else reads the resolved object only. */
export function resolveOptions(options: Options = {}, bundlerRoot: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new UpscaleError('options must be an object')
  if (options.root !== undefined && (typeof options.root !== 'string' || options.root === ''))
    fail('root', 'must be a non-empty path')
  const root = resolve(bundlerRoot, options.root ?? '.')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      fail(key, `is not an option of unplugin-upscale; the options are ${[...KNOWN].join(', ')}`)
  }

  const provider = options.provider ?? 'auto'
  if (!PROVIDERS.includes(provider))
    fail('provider', `must be one of ${PROVIDERS.join(', ')} (got ${JSON.stringify(provider)})`)

  for (const name of ['sync', 'dryRun', 'offline'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean')
      fail(name, `must be true or false (got ${JSON.stringify(options[name])})`)
  }
  const offline = options.offline ?? env.UPSCALE_OFFLINE === '1'
  const token = nonEmpty('token', options.token) ?? nonEmpty('UPSCALE_API_TOKEN', env.UPSCALE_API_TOKEN)
  if (provider === 'api' && !token && !offline)
    fail('provider', 'is \'api\' but no token is configured: set the `token` option or the UPSCALE_API_TOKEN environment variable, build offline from the cache (UPSCALE_OFFLINE=1), or use provider \'local\'')
  const logLevel = options.logLevel ?? 'info'
  if (!['silent', 'info', 'debug'].includes(logLevel))
    fail('logLevel', `must be 'silent', 'info' or 'debug' (got ${JSON.stringify(logLevel)})`)
  const onError = options.onError ?? 'fail'
  if (onError !== 'fail' && onError !== 'original')
    fail('onError', `must be 'fail' or 'original' (got ${JSON.stringify(onError)})`)

  const apiUrl = (nonEmpty('apiUrl', options.apiUrl) ?? nonEmpty('UPSCALE_API_URL', env.UPSCALE_API_URL) ?? DEFAULT_API_URL).replace(/\/+$/, '')
  let parsed: URL | undefined
  try { parsed = new URL(apiUrl) }
  catch {}
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    fail('apiUrl', `must be an http(s) URL (got ${JSON.stringify(apiUrl)})`)

  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR
  if (typeof cacheDir !== 'string' || cacheDir === '')
    fail('cacheDir', 'must be a non-empty path')

  const defaults = options.defaults ?? {}
  const scale = defaults.scale ?? 'auto'
  if (!SCALES.includes(String(scale) as never))
    fail('defaults.scale', `must be one of ${SCALES.join(', ')} (got ${JSON.stringify(scale)})`)
  const type = defaults.type ?? 'clean'
  if (!TYPES.includes(type as never))
    fail('defaults.type', `must be one of ${TYPES.join(', ')} (got ${JSON.stringify(type)})`)

  const engine = options.engine
  if (engine !== undefined && (typeof engine.enhance !== 'function' || !engine.id || !engine.version))
    fail('engine', 'must have `id`, `version` and an `enhance` function')

  const numbers = {} as Record<NumberOption, number>
  for (const [name, rule] of Object.entries(NUMBERS) as Array<[NumberOption, typeof NUMBERS[NumberOption]]>) {
    const value = options[name] ?? rule.default
    const ok = typeof value === 'number' && value >= rule.min && (value === Infinity ? rule.infinite : Number.isFinite(value) && (!rule.integer || Number.isInteger(value)))
    if (!ok)
      fail(name, `must be ${rule.integer ? 'a whole number' : 'a number'} ≥ ${rule.min}${rule.infinite ? ' (or Infinity)' : ''} (got ${typeof value === 'number' ? value : JSON.stringify(value)})`)
    numbers[name] = value
  }
  if (options.publicUrl !== undefined && typeof options.publicUrl !== 'function')
    fail('publicUrl', 'must be a function (file) => string | undefined')
  const callbackUrl = nonEmpty('callbackUrl', options.callbackUrl)
  if (callbackUrl !== undefined && !/^https?:\/\/[^/]/.test(callbackUrl))
    fail('callbackUrl', `must be an http(s) URL (got ${JSON.stringify(callbackUrl)})`)

  return {
    root,
    cacheDir: resolve(root, cacheDir),
    provider: provider === 'auto' ? (token ? 'api' : 'local') : provider,
    providerFallback: provider === 'auto' && !token,
    token,
    apiUrl,
    defaults: { scale: (scale === 'auto' ? 'auto' : Number(scale)) as Scale, type },
    filter: createFileFilter(options.include, options.exclude, root),
    engine,
    sync: options.sync ?? false,
    ...numbers,
    dryRun: options.dryRun ?? env.UPSCALE_DRY_RUN === '1',
    offline,
    onError,
    logLevel,
    publicUrl: options.publicUrl,
    callbackUrl,
  }
}

function nonEmpty(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '')
    return undefined
  if (typeof value !== 'string')
    fail(name, 'must be a string')
  return value
}
