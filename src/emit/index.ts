import type { Emitter } from './types'
import { UpscaleError } from '../core/errors'
import { esbuildEmitter } from './esbuild'
import { rollupEmitter } from './rollup'
import { viteEmitter } from './vite'
import { webpackEmitter } from './webpack'

export type { EmitRequest, Emitter } from './types'

const EMITTERS: Record<string, Emitter> = {
  vite: viteEmitter,
  rollup: rollupEmitter,
  webpack: webpackEmitter,
  rspack: webpackEmitter,
  esbuild: esbuildEmitter,
}

/** The emitter of a bundler, chosen once when the plugin is created; an unsupported bundler fails there. */
export function emitterFor(framework: string): Emitter {
  const emitter = EMITTERS[framework]
  if (!emitter)
    throw new UpscaleError(`${framework} is not supported; unplugin-upscale works with ${Object.keys(EMITTERS).join(', ')}`)
  return emitter
}
