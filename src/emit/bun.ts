import type { Emitter } from './types'
import { UpscaleError } from '../core/errors'
import { hashedName } from './name'

interface BunContext {
  emitFile: (file: { type: 'asset', fileName: string, source: Uint8Array }) => unknown
  getNativeBuildContext?: () => { build?: { config?: { outdir?: string, publicPath?: string } } }
}

/**
 * Bun.build: `<outdir>/assets/…`, its URL under `publicPath` (else relative, like Bun's own file
 * loader). Without `outdir` unplugin would drop the file without a word: that fails instead.
 */
export const bunEmitter: Emitter = {
  emit(context, { image }) {
    const ctx = context as BunContext
    const config = ctx.getNativeBuildContext?.().build?.config
    if (!config?.outdir)
      throw new UpscaleError('Bun.build needs `outdir` for the enhanced images to be written (with `outfile` alone they would be lost)')
    const fileName = `assets/${hashedName(image)}`
    ctx.emitFile({ type: 'asset', fileName, source: image.data })
    const publicPath = config.publicPath
    return JSON.stringify(publicPath ? `${publicPath.replace(/\/+$/, '')}/${fileName}` : `./${fileName}`)
  },
}
