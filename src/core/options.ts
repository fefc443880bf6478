import type { Options, ResolvedOptions, Scale } from '../types'
import { resolve } from 'node:path'
import { UpscaleError } from './errors'
import { createFileFilter } from './filter'
import { SCALES, TYPES } from './query'

export const DEFAULT_API_URL = 'https://api.gpt.ge'
export const DEFAULT_CACHE_DIR = 'node_modules/.cache/unplugin-upscale'
const PROVIDERS = ['auto', 'api', 'local']
const KNOWN = new Set(['cacheDir', 'provider', 'token', 'apiUrl', 'defaults', 'include', 'exclude', 'engine'])

function fail(option: string, message: string): never {
  throw new UpscaleError(`option \`${option}\` ${message}`)
}

/** Fill in defaults and validate once; everything else reads the resolved object only. */
export function resolveOptions(options: Options = {}, root: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new UpscaleError('options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      fail(key, `is not an option of unplugin-upscale; the options are ${[...KNOWN].join(', ')}`)
  }

  const provider = options.provider ?? 'auto'
  if (!PROVIDERS.includes(provider))
    fail('provider', `must be one of ${PROVIDERS.join(', ')} (got ${JSON.stringify(provider)})`)

  const token = nonEmpty('token', options.token) ?? nonEmpty('UPSCALE_API_TOKEN', env.UPSCALE_API_TOKEN)
  if (provider === 'api' && !token)
    fail('provider', 'is \'api\' but no token is configured: set the `token` option or the UPSCALE_API_TOKEN environment variable, or use provider \'local\'')

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
  }
}

function nonEmpty(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '')
    return undefined
  if (typeof value !== 'string')
    fail(name, 'must be a string')
  return value
}
