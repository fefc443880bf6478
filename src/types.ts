import type { FilterPattern } from './core/filter'

export type ScaleFactor = 1 | 2 | 4
export type Scale = 'auto' | ScaleFactor
export type EnhanceType = 'clean' | 'face'
export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'avif'
export type ProviderName = 'auto' | 'api' | 'local'

export interface Options {
  /**
   * Where enhanced images are kept between builds. Relative paths resolve against the project root.
   * @default 'node_modules/.cache/unplugin-upscale'
   */
  cacheDir?: string
  /**
   * Which engine enhances images: `'api'` (the hosted service, needs a token), `'local'` (sharp and
   * a built-in Lanczos-3 enlarger, no network) or `'auto'` (the API when a token is configured, else local).
   * @default 'auto'
   */
  provider?: ProviderName
  /**
   * Bearer token for the enhancement API. Never logged, cached or bundled.
   * @default process.env.UPSCALE_API_TOKEN
   */
  token?: string
  /**
   * Base URL of the enhancement API.
   * @default process.env.UPSCALE_API_URL ?? 'https://api.gpt.ge'
   */
  apiUrl?: string
  /**
   * Parameters used when an import's query does not give them.
   * @default { scale: 'auto', type: 'clean' }
   */
  defaults?: { scale?: Scale, type?: EnhanceType }
  /**
   * Only image files matching these are handled (globs relative to the project root, or RegExps).
   * @default every file imported with `?upscale`
   */
  include?: FilterPattern
  /**
   * Image files matching these are left alone even when imported with `?upscale`.
   * @default []
   */
  exclude?: FilterPattern
  /**
   * A custom engine, used instead of `provider`. For tests and for bringing your own enhancer.
   * @default undefined
   */
  engine?: Engine
}

export interface ResolvedOptions {
  root: string
  cacheDir: string
  provider: 'api' | 'local'
  /** true when `provider: 'auto'` fell back to the local engine */
  providerFallback: boolean
  token: string | undefined
  apiUrl: string
  defaults: { scale: Scale, type: EnhanceType }
  filter: (file: string) => boolean
  engine: Engine | undefined
}

/** What one `?upscale` import asks for, after defaults are applied. */
export interface UpscaleParams {
  scale: Scale
  type: EnhanceType
  as: 'url' | 'metadata'
  format: 'original' | OutputFormat
  quality: number | undefined
}

/** The metadata export of an `?upscale` module. */
export interface UpscaledImage {
  src: string
  width: number
  height: number
  format: string
  originalWidth: number
  originalHeight: number
  scale: ScaleFactor
  type: EnhanceType
}

export interface SourceInfo {
  /** sharp's format name, e.g. 'jpeg', 'png', 'webp', 'heif', 'tiff' */
  format: string
  /** width and height after EXIF orientation is applied */
  width: number
  height: number
}

export interface EnhanceRequest {
  /** absolute path of the source image, for messages */
  file: string
  source: Buffer
  info: SourceInfo
  scale: ScaleFactor
  type: EnhanceType
}

export interface EnhanceResult {
  /** encoded image bytes */
  data: Buffer
  /** where the result came from (task id, service type, …); kept in the cache record */
  provenance?: Record<string, unknown>
}

/** An enhancer: the local engine and the API client both implement this. */
export interface Engine {
  /** part of the cache key: results of different engines never mix */
  readonly id: string
  /** bump when the output changes, so old cache entries stop matching */
  readonly version: string
  enhance: (request: EnhanceRequest) => Promise<EnhanceResult>
}
