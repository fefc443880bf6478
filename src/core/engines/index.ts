import type { Engine, ResolvedOptions } from '../../types'
import { UpscaleError } from '../errors'
import { createLocalEngine } from './local'

export function createEngine(options: ResolvedOptions): Engine {
  if (options.engine)
    return options.engine
  if (options.provider === 'local')
    return createLocalEngine()
  throw new UpscaleError('provider \'api\' is not available in this version yet; use provider \'local\' (or unset UPSCALE_API_TOKEN)')
}
