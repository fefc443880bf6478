import type { RemoteSettings } from './core/cache/remote'
import type { FilterPattern } from './core/filter'
import type { Preset, PresetFor } from './core/presets'
import type { compileRemotePatterns, RemotePattern } from './core/remote-source'

export type ScaleFactor = 1 | 2 | 4
export type Scale = 'auto' | ScaleFactor
export type EnhanceType = 'clean' | 'face'
export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'avif'
export type ProviderName = 'auto' | 'api' | 'local'

export interface Options {
  /**
   * The project root: `cacheDir` and the globs of `include`/`exclude` are relative to it, and
   * messages show paths from it.
   * @default Vite's `root`, webpack's and Rspack's `context`, esbuild's `absWorkingDir`, else `process.cwd()`
   */
  root?: string
  /**
   * Where enhanced images are kept between builds. Relative paths resolve against the root.
   * @default '.upscale-cache' beside the nearest package.json at or above the root (out of
   * node_modules, so that `npm ci` keeps it)
   */
  cacheDir?: string
  /**
   * Which engine enhances images: `'api'` (the hosted service, needs a token), `'local'` (sharp and
   * a built-in Lanczos-3 enlarger, no network) or `'auto'` (the API when a token is configured, else local).
   * @default 'auto'
   */
  provider?: ProviderName
  /**
   * How the built-in local engine enlarges: `'learned'`, filters learned from example images and
   * chosen per pixel by its local edge structure (RAISR-style; they ship in the package), or
   * `'lanczos'`, plain Lanczos-3 resampling with a mild unsharp mask.
   * @default 'learned'
   */
  localMethod?: 'learned' | 'lanczos'
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
   * Parameters by folder or file: `{ 'src/photos/**': { scale: 4, format: 'webp' } }`. Globs are
   * relative to the root; the first that matches a file gives its parameters, and an import's own
   * query overrides any of them. Applied to imports, stylesheet and page URLs (their `w`, `as` and
   * format lists aside: those take one image) and JS API calls.
   * @default undefined
   */
  presets?: Record<string, Preset>
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
  /**
   * API: ask for the result in the submit's answer (`sync=1`) instead of submitting and polling.
   * @default false
   */
  sync?: boolean
  /**
   * API: tasks in flight at once, for the whole process (client and SSR builds share it).
   * @default 4
   */
  concurrency?: number
  /**
   * API: requests (submits and polls) per second; the service's default quota is 2.
   * @default 2
   */
  rateLimit?: number
  /**
   * API: milliseconds one request may take (connect, headers, and the whole body).
   * @default 30000
   */
  timeout?: number
  /**
   * API: milliseconds one image may take in all, submits, polls, retries and download included.
   * @default 90000
   */
  taskTimeout?: number
  /**
   * API: further attempts after a 429, a 5xx, a dropped connection, a timeout or state -2/-8.
   * @default 4
   */
  retries?: number
  /**
   * API: base of the exponential backoff between attempts, in ms (with full jitter; capped at 30 s).
   * A 429's Retry-After is honoured instead.
   * @default 1000
   */
  retryDelay?: number
  /**
   * API: milliseconds between polls of an async task (it grows gently up to 4×).
   * @default 1000
   */
  pollInterval?: number
  /**
   * API: largest upload in bytes; larger images fail before anything is paid.
   * @default 15728640 (15 MiB)
   */
  maxUploadBytes?: number
  /**
   * API: longest side in pixels the service takes.
   * @default 4096
   */
  maxUploadSide?: number
  /**
   * The largest image (width × height, after enlargement) this plugin makes or accepts: larger
   * sources fail before anything is decoded or paid, and larger API results before they are
   * decoded. The local engine needs about 40 bytes per output pixel while it works.
   * @default 50000000 (50 megapixels, e.g. 8192 × 6104)
   */
  maxOutputPixels?: number
  /**
   * API: the largest result download in bytes (counted after any decompression); a result that
   * announces or sends more is refused.
   * @default 134217728 (128 MiB)
   */
  maxResultBytes?: number
  /**
   * API: most billable tasks one build may send; beyond it the build fails listing the images it
   * would have sent.
   * @default Infinity
   */
  maxTasks?: number
  /**
   * A shared cache behind the disk cache, so that a CI fleet pays for each image once: looked up
   * after the disk cache, filled with every fresh enhancement. `protocol: 'turbo'` speaks
   * Turborepo's remote cache API (Vercel, `turborepo-remote-cache`; `team`: a team id `team_…` or a
   * slug); `'http'` GETs and PUTs `<url>/<key>` (nginx WebDAV, an object store behind a proxy).
   * `readOnly` downloads but never uploads (pull requests from forks).
   * @default from UPSCALE_REMOTE_CACHE_URL, _PROTOCOL, _TOKEN, _TEAM, _READ_ONLY=1; else none
   */
  remoteCache?: {
    url: string
    protocol?: 'turbo' | 'http'
    token?: string
    team?: string
    readOnly?: boolean
    /** ms one request may take @default 2000 */
    timeout?: number
    /**
     * Sign every artifact (HMAC-SHA256 over its key, the team and its bytes, Turborepo's
     * `x-artifact-tag` format) and use only artifacts signed with this key. Without it, anyone who
     * can write to the remote cache decides what your builds ship.
     * @default UPSCALE_REMOTE_CACHE_SIGNATURE_KEY, or for `turbo` TURBO_REMOTE_CACHE_SIGNATURE_KEY
     */
    signatureKey?: string
  }
  /**
   * Cache only: never call the API. Every billable image missing from the cache is listed in one
   * error at the end of the build. With `provider: 'api'`, no token is needed. For CI and
   * reviewers without a token.
   * @default process.env.UPSCALE_OFFLINE === '1'
   */
  offline?: boolean
  /**
   * What a failed enhancement does: `'fail'` stops the build; `'original'` warns and emits the
   * image unenhanced (nothing is cached, so the next build tries again).
   * @default 'fail'
   */
  onError?: 'fail' | 'original'
  /**
   * Cache entries unused for longer than this (ms) are removed at the end of a build (checked at
   * most once an hour). `Infinity` keeps them.
   * @default 15552000000 (180 days)
   */
  maxAge?: number
  /**
   * When the cache is larger than this (bytes), the least recently used entries are removed at the
   * end of a build, never one the build used.
   * @default Infinity
   */
  maxSize?: number
  /**
   * What the plugin prints: `'info'` a progress line while images are enhanced and one summary line
   * per build; `'debug'` also each API request (method, path, status, time; never the token);
   * `'silent'` nothing.
   * @default 'info'
   */
  logLevel?: 'silent' | 'info' | 'debug'
  /**
   * Send nothing: list every billable cache miss with its importer, and emit those images unenhanced.
   * @default process.env.UPSCALE_DRY_RUN === '1'
   */
  dryRun?: boolean
  /**
   * API: the public URL of an image that is already hosted (a CDN, a deployed site), so the service
   * fetches it instead of receiving an upload. Return undefined to upload. The cache key still
   * hashes the local bytes.
   * @default undefined
   */
  publicUrl?: (file: string) => string | undefined
  /**
   * JS API and CLI: the remote sources `upscale('https://…')` may fetch, in the shape Next.js and
   * Astro use: `[{ protocol: 'https', hostname: '**.example.com', pathname: '/media/**' }]`. A URL
   * (and each redirect) must match one. An internal address (loopback, private, link-local) is
   * refused unless a pattern names its host without a wildcard.
   * @default [] (no remote source)
   */
  remotePatterns?: RemotePattern[]
  /**
   * API: how a remote source reaches the service. `'https'`: https sources go as `image_url` (the
   * service fetches them; nothing is uploaded), others are uploaded; `'always'`: every remote
   * source by URL; `'never'`: always uploaded. The cache key hashes the bytes either way.
   * @default 'https'
   */
  remoteByUrl?: 'https' | 'always' | 'never'
  /**
   * API: forwarded as `callback_url`. Completion is still decided by polling, because a build has
   * no public endpoint of its own to receive the call.
   * @default undefined
   */
  callbackUrl?: string
}

/** Every option filled in: defaults applied, environment read, values checked (see core/options.ts). */
export type ResolvedOptions = Required<Omit<Options,
  'provider' | 'token' | 'defaults' | 'presets' | 'remotePatterns' | 'include' | 'exclude' | 'engine' | 'publicUrl' | 'callbackUrl'
  | 'remoteCache'>> & {
    provider: 'api' | 'local'
    /** true when `provider: 'auto'` fell back to the local engine */
    providerFallback: boolean
    token: string | undefined
    defaults: Required<NonNullable<Options['defaults']>>
    /** `remotePatterns`, checked and compiled */
    remotePatterns: ReturnType<typeof compileRemotePatterns>
    /** the preset of a file, from `presets` */
    presetFor: PresetFor | undefined
    /** `include` and `exclude` as one predicate over absolute paths */
    filter: (file: string) => boolean
    engine: Engine | undefined
    publicUrl: Options['publicUrl']
    callbackUrl: string | undefined
    remoteCache: RemoteSettings | undefined
    /** where the default cache was before 0.2, to move entries from (none when `cacheDir` is set) */
    legacyCacheDirs: string[]
  }

/** What one `?upscale` import asks for, after defaults are applied. */
export interface UpscaleParams {
  scale: Scale
  type: EnhanceType
  as: 'url' | 'metadata' | 'srcset' | 'picture' | 'variants'
  /** the format of a single image; with `variants`, the first of their formats */
  format: 'original' | OutputFormat
  quality: number | undefined
  /**
   * Responsive variants (`w=480;960`, `format=avif;webp`, `as=srcset|picture`): the widths (none
   * given: the enhanced width) and formats, each variant derived from the one enhanced image.
   */
  variants?: { widths: number[] | undefined, formats: Array<'original' | OutputFormat> }
}

/** The metadata export of an `?upscale` module. */
export interface UpscaledImage {
  src: string
  width: number
  height: number
  /** 'tiff' only for a source shown unenhanced (dry run, a dev-server miss) */
  format: OutputFormat | 'tiff'
  originalWidth: number
  originalHeight: number
  scale: ScaleFactor
  type: EnhanceType
  /**
   * A tiny blurred copy of the enhanced image (`data:image/webp;base64,…`, long side 16 px), in
   * every metadata shape (`upscale=metadata`, variants, `picture.img`) but not beside a URL or
   * srcset import; in Next.js, Next's own (8 px) when it makes one.
   */
  blurDataURL?: string
  /** the placeholder's width and height in pixels */
  blurWidth?: number
  blurHeight?: number
  /** the image's most common colour, `#rrggbb` (a background while it loads) */
  dominantColor?: string
}

export interface SourceInfo {
  /** sharp's format name, e.g. 'jpeg', 'png', 'webp', 'heif', 'tiff' */
  format: string
  /** width and height after EXIF orientation is applied */
  width: number
  height: number
  /** 16 for 16-bit PNG and TIFF sources (the local engine keeps that depth); else 8 */
  depth?: 8 | 16
}

export interface EnhanceRequest {
  /** absolute path of the source image, for messages */
  file: string
  /** the source's bytes (a Buffer, in Node) */
  source: Uint8Array
  info: SourceInfo
  scale: ScaleFactor
  /** true when the import asked for `auto` (the API then lets the service choose, by the same rule) */
  auto: boolean
  type: EnhanceType
  /** a remote source's URL, when it is to be sent to the service as `image_url` rather than uploaded */
  sourceUrl?: string
  /** for billable engines: the task journal of this image, so a paid task is never paid again */
  tasks?: TaskHooks
}

/**
 * What a billable engine is given to never pay twice: a task an earlier build left unfinished,
 * a place to journal each new task the moment it exists, and a budget to ask before paying again.
 */
export interface TaskHooks {
  /** a task submitted for this very image by an earlier build that never finished it: resume it */
  resume?: { taskId: string, submittedAt: number }
  /** counts a new task and journals its id (undefined: the id is not safe to write, e.g. it carries the token) */
  submitted: (taskId: string | undefined) => Promise<void>
  /** the task ended without a usable result (a failed state, a corrupt image): nothing left to resume */
  over: () => Promise<void>
  /** asks for one more billable task (after the service's own failure, -2 or -8); false when `maxTasks` says no */
  another: (why: string) => boolean
}

export interface EnhanceResult {
  /** encoded image bytes */
  data: Uint8Array
  /** width, height and format of `data`, when the engine has checked them (else they are read from it) */
  info?: { width: number, height: number, format: string }
  /** where the result came from (task id, service type, …); kept in the cache record */
  provenance?: Record<string, unknown>
}

/** An enhancer: the local engine and the API client both implement this. */
export interface Engine {
  /** part of the cache key: results of different engines never mix */
  readonly id: string
  /** bump when the output changes, so old cache entries stop matching */
  readonly version: string
  /** true when every call costs money: dry runs and `maxTasks` count these */
  readonly billable?: boolean
  enhance: (request: EnhanceRequest) => Promise<EnhanceResult>
  /** release sockets and timers; called when a build ends (the engine may be used again after) */
  close?: () => Promise<void>
}
