import type { Options } from '../types'
import type { LoaderOptions } from './loader'
import { fileURLToPath } from 'node:url'
import { UpscaleError } from '../core/errors'
import { FILE_QUERY } from './loader'
import { localServices, NextService } from './service'

/** The image files a `?upscale` import may name; TIFF comes out as PNG. */
const EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'avif', 'tif', 'tiff']
/** What marks the import: the same rule as every other entry (`?upscale`, `&upscale=metadata`, …). */
const UPSCALE_QUERY = /[?&]upscale(?:[=&]|$)/
/** Either that, or the enhanced file of one (Turbopack) */
const OURS = /[?&]upscale(?:[=&-]|$)/
/** The formats an enhanced file comes in, by extension */
const OUTPUTS = ['jpg', 'png', 'webp', 'avif']
/** A source renamed to its enhanced format by a 'file' rule */
const RENAMED = new RegExp(`\\.(?:${EXTENSIONS.join('|')})\\.(?:${OUTPUTS.join('|')})$`, 'i')

/** The parts of Next's config this wrapper reads and extends; everything else passes through. */
export interface NextConfigLike {
  webpack?: ((config: any, context: any) => any) | null
  turbopack?: { rules?: Record<string, unknown>, [key: string]: unknown }
  images?: { disableStaticImages?: boolean, [key: string]: unknown }
  [key: string]: unknown
}

/** what a wrapped config function gives Next */
type Wrapped<C> = ConfigFunction<C & NextConfigLike>

type ConfigFunction<C> = (phase: string, context?: { defaultConfig: any }) => C | Promise<C>

const loaderPath = (): string => fileURLToPath(new URL('./next-loader.cjs', import.meta.url))

/** webpack: our loader for `?upscale` resources, and Next's own image rule told to leave them to it. */
function extendWebpack(config: any, options: LoaderOptions): void {
  const rules: any[] = config.module?.rules ?? []
  const all = rules.flatMap(rule => (rule && typeof rule === 'object' && Array.isArray(rule.oneOf) ? [rule, ...rule.oneOf] : [rule]))
  const imageRule = all.find(rule => rule && typeof rule === 'object' && rule.loader === 'next-image-loader')
  if (!imageRule)
    throw new UpscaleError('unplugin-upscale/next: Next\'s static image imports are off (`images.disableStaticImages`), and the enhanced '
      + 'files are handed to them; turn the option off')
  const not = imageRule.resourceQuery?.not
  imageRule.resourceQuery = { not: [...(Array.isArray(not) ? not : not ? [not] : []), UPSCALE_QUERY] }
  rules.unshift({
    test: new RegExp(`\\.(?:${EXTENSIONS.join('|')})$`, 'i'),
    resourceQuery: UPSCALE_QUERY,
    type: 'javascript/auto',
    use: [{ loader: loaderPath(), options }],
  })
}

/**
 * Turbopack: the same loader by a rule per extension, with a query condition; the app's own rules
 * for those files skip `?upscale`.
 */
function extendTurbopack(
  turbopack: NextConfigLike['turbopack'],
  options: LoaderOptions,
  cacheDir: string,
): NonNullable<NextConfigLike['turbopack']> {
  const rules: Record<string, unknown> = { ...turbopack?.rules }
  const loader = loaderPath()
  const ours = [
    { condition: { query: UPSCALE_QUERY }, loaders: [{ loader, options }], as: '*.js' },
    // the enhanced bytes, renamed to their format so that Next's own image handling takes them
    ...OUTPUTS.map(ext => ({
      // (once: the renamed module, `bird.png.webp`, would match the rule of its new extension again)
      condition: { all: [{ query: new RegExp(`[?&]${FILE_QUERY}=[^&]*\\.${ext}(?:&|$)`) }, { not: { path: RENAMED } }] },
      loaders: [{ loader, options: { ...options, mode: 'file', cacheDir } }],
      as: `*.${ext}`,
    })),
  ]
  const notOurs = (rule: any): unknown => {
    if (!rule || typeof rule !== 'object' || !('loaders' in rule || 'type' in rule || 'as' in rule))
      return { condition: { not: { query: OURS } }, loaders: [rule] }
    const skip = { not: { query: OURS } }
    return { ...rule, condition: rule.condition ? { all: [rule.condition, skip] } : skip }
  }
  for (const ext of EXTENSIONS) {
    const key = `*.${ext}`
    const theirs = rules[key]
    rules[key] = theirs === undefined ? ours : [...ours, ...(Array.isArray(theirs) ? theirs : [theirs]).map(notOurs)]
  }
  return { ...turbopack, rules }
}

function wrap(nextConfig: NextConfigLike, service: NextService): NextConfigLike {
  const userWebpack = nextConfig.webpack
  return {
    ...nextConfig,
    turbopack: extendTurbopack(nextConfig.turbopack, { socket: service.socket, bundler: 'turbopack' }, service.cacheDir),
    webpack(config: any, context: any) {
      const result = typeof userWebpack === 'function' ? userWebpack(config, context) : config
      extendWebpack(result, { socket: service.socket, bundler: 'webpack' })
      return result
    },
  }
}

/**
 * `export default withUpscale(nextConfig, options)`: `?upscale` imports in a Next.js app, on webpack
 * and Turbopack. The enhanced file is handed to Next's own image handling, so it is served from
 * `/_next/static/media/`, `next/image` optimises it, and a metadata import is a `StaticImageData`.
 */
export function withUpscale<C extends object>(nextConfig: ConfigFunction<C>, options?: Options): Wrapped<C>
export function withUpscale<C extends object = NextConfigLike>(nextConfig: C, options?: Options): C & NextConfigLike
export function withUpscale(nextConfig?: undefined, options?: Options): NextConfigLike
export function withUpscale(nextConfig: any = {}, options?: Options): any {
  const service = new NextService(options, { dev: () => process.env.NODE_ENV === 'development' })
  localServices().set(service.socket, service)
  void service.listen()
  if (typeof nextConfig === 'function')
    return async (phase: string, context: { defaultConfig: any }) => wrap(await nextConfig(phase, context), service)
  return wrap(nextConfig, service)
}

export default withUpscale
