import type { Emitter } from './types'
import { hashedName } from './name'

interface FarmContext {
  emitFile: (file: { type: 'asset', fileName: string, source: Uint8Array }) => unknown
}

/**
 * Farm: `<output.path>/assets/…`, its URL under Farm's `output.publicPath` (default `/`), read as
 * Farm resolves its config.
 */
export function createFarmEmitter(): Emitter & { setPublicPath: (path: string | undefined) => void } {
  let publicPath = '/'
  return {
    setPublicPath(path) {
      publicPath = path ?? '/'
    },
    emit(context, { image }) {
      const fileName = `assets/${hashedName(image)}`
      ;(context as FarmContext).emitFile({ type: 'asset', fileName, source: image.data })
      return JSON.stringify(`${publicPath.replace(/\/+$/, '')}/${fileName}`)
    },
  }
}
