import type { Engine, ResolvedOptions } from '../../types'
import { createApiEngine } from './api'
import { createLocalEngine } from './local'

export function createEngine(options: ResolvedOptions): Engine {
  if (options.engine)
    return options.engine
  if (options.provider === 'local')
    return createLocalEngine()
  return createApiEngine({ ...options, token: options.token! })
}
