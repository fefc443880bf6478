import type { EmitContext, Emitter } from './types'
import { hashedName } from './name'

/** esbuild: `<outdir>/assets/…`, its URL under `publicPath` like esbuild's file loader (else relative). */
export const esbuildEmitter: Emitter = {
  emit(context, { image }) {
    const ctx = context as EmitContext
    const fileName = `assets/${hashedName(image)}`
    ctx.emitFile({ type: 'asset', fileName, source: image.data })
    const publicPath = ctx.getNativeBuildContext?.().build?.initialOptions.publicPath
    return JSON.stringify(publicPath ? `${publicPath.replace(/\/+$/, '')}/${fileName}` : `./${fileName}`)
  },
}
