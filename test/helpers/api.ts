import type { Options } from '../../src/types'
import type { ScaleServer } from '../server'
import { onTestFinished } from 'vitest'
import { startScaleServer } from '../server'

/** A loopback API server for one test, closed when it ends. */
export async function server(options: Parameters<typeof startScaleServer>[0] = {}): Promise<ScaleServer> {
  const s = await startScaleServer(options)
  onTestFinished(() => s.close())
  return s
}

/** Plugin options that point at the loopback server, with the waits made short for tests. */
export function apiOptions(s: ScaleServer, more: Options = {}): Options {
  return { provider: 'api', token: s.token, apiUrl: s.url, pollInterval: 5, retryDelay: 5, rateLimit: Infinity, ...more }
}

/** The same, as `viteBuild`'s options. */
export const api = (s: ScaleServer, more: Options = {}): { options: Options } => ({ options: apiOptions(s, more) })
