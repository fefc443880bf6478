import type { Engine, ResolvedOptions } from '../../types'
import { createApiEngine } from './api'
import { createLocalEngine } from './local'

export function createEngine(options: ResolvedOptions, debug?: (line: string) => void): Engine {
  if (options.engine)
    return options.engine
  if (options.provider === 'local')
    return createLocalEngine({ method: options.localMethod })
  // offline, the API engine may have no token: it is never called then
  return createApiEngine({ ...options, token: options.token ?? '', debug })
}
