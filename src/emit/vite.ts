import type { EmitContext, Emitter } from './types'

/**
 * Vite names and places the asset (assetFileNames, assetsDir) and replaces its own placeholder
 * with a URL from `base` in client and SSR builds alike, in every version. (A Rollup file-URL
 * reference would become a file:// URL in the SSR build of Vite < 7.)
 */
export const viteEmitter: Emitter = {
  emit(context, { image, originalFileName }) {
    const ref = (context as EmitContext).emitFile({ type: 'asset', name: image.fileName, originalFileName, source: image.data })
    return JSON.stringify(`__VITE_ASSET__${ref}__`)
  },
  // `?url` is a string in every Vite setup (another plugin may turn a bare image import into an
  // object, as Astro does), and it works on the dev server, where nothing is emitted
  importOriginal: file => `${file}?url`,
}
