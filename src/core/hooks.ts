/** What the plugin's hook bodies (UpscaleContext) are given by the bundler glue, and give back. */
import type { ProcessedImage } from './pipeline'

/** The part of a hook's `this` used here: `resolve` exists in Rollup and Vite only. */
export interface ResolveContext {
  resolve?: (id: string, importer?: string, options?: { skipSelf?: boolean })
  => Promise<{ id: string, external?: boolean | string } | null>
  addWatchFile?: (file: string) => void
}

/** Writes the image into the build and returns the JS expression of its URL (see src/emit). */
export type EmitImage = (hookContext: unknown, image: ProcessedImage, file: string) => string

/** How the bundler is asked for an unenhanced source as a URL string, where it can be (Vite: `?url`). */
export type OriginalImport = (file: string) => string

/** How the dev server learns that a background enhancement finished, or failed. */
export interface DevHooks {
  /** reload a module (an `?upscale` import, or a stylesheet that refers to one) */
  ready: (id: string) => void | Promise<void>
  /** reload the page (a page that refers to one) */
  reloadPage: () => void
  failed: (error: Error) => void
}

/** What a `?upscale` URL in a stylesheet or a page stands for (see UpscaleContext.reference). */
export type Reference
  = | { kind: 'image', image: ProcessedImage, file: string }
    | { kind: 'dev', url: string }
    | { kind: 'source', file: string }
