import type { ProcessedImage } from '../core/pipeline'
import type { EmitContext, Emitter } from './types'
import { extname } from 'node:path'

/** What the Vite emitter reads of the resolved config: where assets go and how they are named. */
export interface ViteAssetConfig {
  assetsDir: string
  /** `build.rollupOptions.output.assetFileNames`, when the project (or a framework) sets it */
  assetFileNames?: string | ((info: {
    type: 'asset'
    name: string
    names: string[]
    originalFileName: string
    originalFileNames: string[]
    source: Uint8Array
  }) => string)
}

/**
 * Vite: the asset is emitted under the name the project's `assetFileNames` pattern gives (Vite's
 * `<assetsDir>/[name]-[hash][extname]` by default, Astro's own under Astro), with a hex content
 * hash of ours: Rollup's base64 hash may begin with `-` or `_`, which made names like
 * `hero@2x--LNAEUYU.jpg`. The URL is Vite's own placeholder, which it turns into a URL from `base`
 * in client and SSR builds alike, in every version (a Rollup file-URL reference would become a
 * file:// URL in the SSR build of Vite < 7).
 */
export function createViteEmitter(): Emitter & { configure: (config: ViteAssetConfig) => void } {
  let config: ViteAssetConfig = { assetsDir: 'assets' }
  return {
    configure(resolved) {
      config = resolved
    },
    emit(context, { image, originalFileName }) {
      const fileName = assetFileName(config, image, originalFileName)
      const ref = (context as EmitContext).emitFile({ type: 'asset', fileName, source: image.data })
      return JSON.stringify(`__VITE_ASSET__${ref}__`)
    },
    // `?url` is a string in every Vite setup (another plugin may turn a bare image import into an
    // object, as Astro does), and it works on the dev server, where nothing is emitted
    importOriginal: file => `${file}?url`,
  }
}

/**
 * The file name `assetFileNames` gives an asset, with `[hash]` a hex content hash (the cache
 * record's SHA-256 of the bytes, so nothing is hashed again).
 */
export function assetFileName(config: ViteAssetConfig, image: ProcessedImage, originalFileName: string) {
  const { fileName: name, data: source } = image
  const info = { type: 'asset' as const, name, names: [name], originalFileName, originalFileNames: [originalFileName], source }
  const pattern = typeof config.assetFileNames === 'function'
    ? config.assetFileNames(info)
    : config.assetFileNames ?? `${config.assetsDir ? `${config.assetsDir}/` : ''}[name]-[hash][extname]`
  const hash = image.sha256
  const ext = extname(name)
  return pattern
    .replace(/\[hash(?::(\d+))?\]/g, (_, n: string | undefined) => hash.slice(0, Number(n ?? 8)))
    .replaceAll('[name]', name.slice(0, name.length - ext.length))
    .replaceAll('[extname]', ext)
    .replaceAll('[ext]', ext.slice(1))
}
