import type { ProcessedImage } from '../core/pipeline'
import type { ViteAssetConfig } from './vite'

/** What an emitter is given: the final image, its source (for names), and the project root. */
export interface EmitRequest {
  image: ProcessedImage
  /** the source file, as a path relative to the root (Rollup and Vite record it with the asset) */
  originalFileName: string
}

/**
 * How one bundler emits a file and spells its URL. `emit` writes the image into the build and
 * returns the JavaScript expression of its URL; `context` is the hook's `this`.
 */
export interface Emitter {
  emit: (context: unknown, request: EmitRequest) => string
  /** an import specifier that gives the unenhanced source as a URL string, where the bundler has one */
  importOriginal?: (file: string) => string
  /** takes what the bundler's resolved config says of asset names (Vite) */
  configure?: (config: ViteAssetConfig) => void
}

/** The part of Rollup's, Vite's, webpack's, Rspack's and esbuild's unplugin context that emitters use. */
export interface EmitContext {
  emitFile: (file: { type: 'asset', name?: string, fileName?: string, originalFileName?: string, source: Uint8Array }) => unknown
  getNativeBuildContext?: () => { framework: string, build?: { initialOptions: { publicPath?: string } } }
}
