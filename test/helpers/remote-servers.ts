// The remote cache servers the tests run for real: nginx with WebDAV PUT (Debian's nginx or
// nginx-light, on PATH or NGINX_BIN), and turborepo-remote-cache (TURBO_REMOTE_CACHE_BIN, its
// dist/cli.js; .ci/run installs both). Each on a free loopback port, with its storage in a temp
// folder the test can reach into, stopped when the test ends.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { nginxBinary, startNginx as startNginxIn, waitForPort } from './nginx'

export interface RemoteServer {
  url: string
  /** the folder the server keeps artifacts in */
  storage: string
  token?: string
  team?: string
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

function started(child: ChildProcess): () => string {
  let log = ''
  child.stdout?.on('data', (c) => {
    log += c
  })
  child.stderr?.on('data', (c) => {
    log += c
  })
  onTestFinished(() => new Promise<void>((resolve) => {
    if (child.exitCode !== null)
      return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  }))
  return () => log
}

/** nginx serving a temp folder, with WebDAV PUT: plain GET/PUT of `<url>/<key>`. */
export async function startNginx(): Promise<RemoteServer> {
  const dir = await mkdtemp(join(tmpdir(), 'upscale-nginx-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  if (!nginxBinary())
    throw new Error('nginx is needed (Debian: apt-get install nginx-light, or set NGINX_BIN)')
  const nginx = await startNginxIn(dir, await freePort())
  onTestFinished(() => nginx.stop())
  return { url: nginx.url, storage: join(dir, 'root', 'cache') }
}

/**
 * turborepo-remote-cache with local storage and a static token. It keeps artifacts' signatures
 * (`x-artifact-tag`) only when it has TURBO_REMOTE_CACHE_SIGNATURE_KEY itself (`signed`), and then
 * takes only signed uploads, as a signed Turborepo setup does.
 */
export async function startTurboCache({ signed = false } = {}): Promise<RemoteServer> {
  const bin = process.env.TURBO_REMOTE_CACHE_BIN
  if (!bin)
    throw new Error('set TURBO_REMOTE_CACHE_BIN to turborepo-remote-cache\'s dist/cli.js (.ci/run installs it: npm install turborepo-remote-cache in a temporary folder)')
  const dir = await mkdtemp(join(tmpdir(), 'upscale-turbo-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const port = await freePort()
  const token = `turbo-token-${port}`
  const child = spawn(process.execPath, [bin], {
    env: { ...process.env, TURBO_TOKEN: token, ...(signed ? { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'kept-by-the-server' } : {}), STORAGE_PROVIDER: 'local', STORAGE_PATH: 'artifacts', STORAGE_PATH_USE_TMP_FOLDER: 'false', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = started(child)
  await waitForPort(port, child, log)
  return { url: `http://127.0.0.1:${port}`, storage: join(dir, 'artifacts'), token, team: 'upscale-tests' }
}
