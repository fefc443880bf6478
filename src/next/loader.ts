import type { ServiceAnswer, ServiceRequest } from './service'
import { lstat, readFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path'
import { NAMED_DIR } from '../core/cache'
import { moduleCode } from '../core/codegen'
import { localServices } from './service'

/** What `withUpscale` gives the loader: plain values only, as Turbopack requires. */
export interface LoaderOptions {
  /** the Next service's socket */
  socket: string
  bundler: 'webpack' | 'turbopack'
  /**
   * 'module' (default): a `?upscale` import becomes a JS module. 'file' (Turbopack): the enhanced
   * bytes of `?upscale-file=<key>/<name>`, which Next's image handling then takes as an image.
   */
  mode?: 'module' | 'file'
  /** the cache the bytes are read from, in 'file' mode */
  cacheDir?: string
}

/** Turbopack's query of an enhanced file, which the 'file' rules match: `?upscale-file=<key>/<name>`. */
export const FILE_QUERY = 'upscale-file'

/** The part of webpack's and Turbopack's loader context that this loader uses. */
interface LoaderContext {
  resourcePath: string
  resourceQuery: string
  rootContext: string
  getOptions: () => LoaderOptions
  async: () => (error: Error | null, code?: string) => void
  cacheable?: (flag: boolean) => void
  /** webpack only: who imports the resource, for messages */
  _module?: object
  _compilation?: { moduleGraph?: { getIssuer: (module: object) => { resource?: string } | null } }
}

async function ask(socket: string, request: ServiceRequest): Promise<ServiceAnswer> {
  const local = localServices().get(socket)
  if (local)
    return local.handle(request)
  // the service starts listening as the config is read: give it a moment if it is not there yet
  for (let attempt = 1; ; attempt++) {
    try {
      return await post(socket, request)
    }
    catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (attempt >= 50 || (code !== 'ENOENT' && code !== 'ECONNREFUSED'))
        throw new Error(`unplugin-upscale: the loader cannot reach the build service that withUpscale() started `
          + `(${code ?? (error as Error).message}); is next.config wrapped with withUpscale from 'unplugin-upscale/next'?`)
      await new Promise(r => setTimeout(r, 100))
    }
  }
}

function post(socket: string, request: ServiceRequest): Promise<ServiceAnswer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(request)
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    const req = httpRequest({ socketPath: socket, path: '/', method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => {
        try {
          resolve(JSON.parse(text))
        }
        catch {
          reject(new Error(`the service answered ${res.statusCode}`))
        }
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * What the module imports for one image. webpack: the readable-name copy in the cache, by path.
 * Turbopack: the source file again, with a query that its 'file' rule answers with the enhanced
 * bytes (Turbopack does not see files made during a build in folders it has listed before). A
 * source shown unenhanced is imported as itself.
 */
function importOf(file: string, image: { path: string, key?: string }, bundler: LoaderOptions['bundler'], root: string): string {
  if (!image.key || bundler === 'webpack')
    return specifier(file, image.path)
  const rel = relative(root, image.path)
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`unplugin-upscale: the cache (${dirname(dirname(dirname(image.path)))}) is outside the project (${root}), and `
      + `Turbopack resolves no file outside its root; set the \`cacheDir\` option to a folder inside the project`)
  return `./${basename(file)}?${FILE_QUERY}=${encodeURIComponent(`${image.key}/${basename(image.path)}`)}`
}

/** 'file' mode: the bytes of a readable-name copy in the cache, named by key and name, never through a link. */
async function enhancedBytes(query: string, cacheDir: string): Promise<Buffer> {
  const [key, name] = (new URLSearchParams(query.replace(/^\?/, '')).get(FILE_QUERY) ?? '').split('/')
  if (!/^[a-f\d]{64}$/.test(key ?? '') || !/^[^/\\]+\.(?:jpg|png|webp|avif)$/.test(name ?? '') || name.startsWith('.'))
    throw new Error(`unplugin-upscale: \`?${FILE_QUERY}\` names no cache entry (${query})`)
  const path = join(cacheDir, NAMED_DIR, key, name)
  if (!(await lstat(path)).isFile())
    throw new Error(`unplugin-upscale: ${path} is not a regular file`)
  return readFile(path)
}

/** The loader takes the resource's bytes as they are (it reads none in 'module' mode). */
export const raw = true

/** `./x` from the module's own folder, with forward slashes: the import Next resolves like any other. */
function specifier(from: string, to: string): string {
  const path = relative(dirname(from), to).split(sep).join('/')
  return path.startsWith('.') ? path : `./${path}`
}

/**
 * The `?upscale` loader for Next.js, on webpack and Turbopack alike: the service enhances the image
 * (or finds it in the cache), and the module imports the enhanced file by path, so that Next's own
 * image handling emits it under `static/media/` and gives its URL and blur placeholder.
 */
export default function upscaleLoader(this: LoaderContext): void {
  const callback = this.async()
  const options = this.getOptions()
  const { resourcePath: file, resourceQuery: query, rootContext: root } = this
  if (options.mode === 'file') {
    enhancedBytes(query, options.cacheDir!)
      .then(data => callback(null, data as never), (error: Error) => callback(error))
    return
  }
  const importer = this._module && this._compilation?.moduleGraph?.getIssuer(this._module)?.resource?.split('?')[0]
  void ask(options.socket, { file, query, importer })
    .then((answer) => {
      if (!answer.ok)
        throw new Error(answer.message)
      const prelude = answer.images.map((image, i) => `import i${i} from ${JSON.stringify(importOf(file, image, options.bundler, root))};`)
      // webpack's Next image loader and Turbopack give an object; a plain asset rule gives the URL
      prelude.push(
        `const n = i => (typeof i === 'string' ? { src: i } : i);`,
        `const blur = i => (n(i).blurDataURL ? { blurDataURL: n(i).blurDataURL, blurWidth: n(i).blurWidth, blurHeight: n(i).blurHeight } `
        + `: {});`,
      )
      const images = answer.images.map((image, i) => ({
        src: `n(i${i}).src`,
        meta: image.meta,
        extra: `...blur(i${i})`,
      }))
      const shape = { as: answer.as as never, variants: answer.variants ? [] as never : undefined }
      callback(null, moduleCode(images, shape, prelude))
    })
    .catch((error: Error) => callback(error))
}
