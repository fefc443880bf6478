import type { EmitContext, Emitter } from './types'
import { hashedName } from './name'

/** What webpack's and Rspack's loader context has for emitting a file that belongs to a module. */
interface LoaderEmit {
  emitFile: (name: string, content: Buffer) => void
}

/**
 * webpack and Rspack: `assets/<name>-<hash>.<ext>` under `output.path`, prefixed by the public path
 * at run time. The file is emitted through the loader context, so it belongs to the module's build
 * info: a persistent cache (webpack's `cache: { type: 'filesystem' }`, Rspack's persistent cache,
 * on by default in Docusaurus) that restores the module without loading it again emits the file
 * with it. unplugin's own `emitFile` adds it to the compilation only, and a restored module came
 * without its image.
 */
export const webpackEmitter: Emitter = {
  emit(context, { image }) {
    const fileName = `assets/${hashedName(image)}`
    const native = (context as EmitContext).getNativeBuildContext?.()
    const loader = (native as { loaderContext?: Partial<LoaderEmit> } | undefined)?.loaderContext
    if (typeof loader?.emitFile === 'function')
      loader.emitFile(fileName, Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength))
    else
      (context as EmitContext).emitFile({ type: 'asset', fileName, source: image.data })
    return `__webpack_public_path__ + ${JSON.stringify(fileName)}`
  },
}
