import type { EmitContext, Emitter } from './types'

/** Rollup names the asset with `output.assetFileNames` and resolves the reference relative to the chunk. */
export const rollupEmitter: Emitter = {
  emit(context, { image, originalFileName }) {
    const ref = (context as EmitContext).emitFile({ type: 'asset', name: image.fileName, originalFileName, source: image.data })
    return `import.meta.ROLLUP_FILE_URL_${ref}`
  },
}
