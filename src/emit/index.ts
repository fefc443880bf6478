import type { Emitter } from './types'
import { UpscaleError } from '../core/errors'
import { bunEmitter } from './bun'
import { esbuildEmitter } from './esbuild'
import { createFarmEmitter } from './farm'
import { rollupEmitter } from './rollup'
import { createViteEmitter } from './vite'
import { webpackEmitter } from './webpack'

export type { EmitRequest, Emitter } from './types'

const EMITTERS: Record<string, () => Emitter> = {
  vite: createViteEmitter,
  rollup: () => rollupEmitter,
  rolldown: () => rollupEmitter,
  webpack: () => webpackEmitter,
  rspack: () => webpackEmitter,
  esbuild: () => esbuildEmitter,
  bun: () => bunEmitter,
  farm: createFarmEmitter,
}

/** The emitter of a bundler, made once per plugin instance; an unsupported bundler fails there. */
export function emitterFor(framework: string): Emitter {
  const create = EMITTERS[framework]
  if (!create)
    throw new UpscaleError(`${framework} is not supported; unplugin-upscale works with ${Object.keys(EMITTERS).join(', ')}`)
  return create()
}
