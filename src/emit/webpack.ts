import type { EmitContext, Emitter } from './types'
import { hashedName } from './name'

/** webpack and Rspack: `assets/<name>-<hash>.<ext>` under `output.path`, prefixed by the public path at run time. */
export const webpackEmitter: Emitter = {
  emit(context, { image }) {
    const fileName = `assets/${hashedName(image)}`
    ;(context as EmitContext).emitFile({ type: 'asset', fileName, source: image.data })
    return `__webpack_public_path__ + ${JSON.stringify(fileName)}`
  },
}
