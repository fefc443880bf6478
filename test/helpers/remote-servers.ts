// The remote cache servers the tests run for real: nginx with WebDAV PUT (Debian's nginx or
// nginx-light, on PATH or NGINX_BIN), and turborepo-remote-cache (TURBO_REMOTE_CACHE_BIN, its
// dist/cli.js; .ci/run installs both). Each on a free loopback port, with its storage in a temp
// folder the test can reach into, stopped when the test ends.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

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

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null)
      throw new Error(`the server exited (${child.exitCode}):\n${log()}`)
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end()
        resolve(true)
      }).on('error', () => resolve(false))
    })
    if (up)
      return
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`the server never listened on ${port}:\n${log()}`)
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
  const storage = join(dir, 'root')
  await mkdir(storage)
  await mkdir(join(dir, 'tmp'))
  const port = await freePort()
  await writeFile(join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${storage};
    location / {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 256m;
    }
  }
}
`)
  const child = spawn(process.env.NGINX_BIN ?? 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = started(child)
  await listening(port, child, log)
  return { url: `http://127.0.0.1:${port}/cache`, storage: join(storage, 'cache') }
}

/** turborepo-remote-cache with local storage and a static token. */
export async function startTurboCache(): Promise<RemoteServer> {
  const bin = process.env.TURBO_REMOTE_CACHE_BIN
  if (!bin)
    throw new Error('set TURBO_REMOTE_CACHE_BIN to turborepo-remote-cache\'s dist/cli.js (.ci/run installs it: npm install turborepo-remote-cache in a temporary folder)')
  const dir = await mkdtemp(join(tmpdir(), 'upscale-turbo-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const port = await freePort()
  const token = `turbo-token-${port}`
  const child = spawn(process.execPath, [bin], {
    env: { ...process.env, TURBO_TOKEN: token, STORAGE_PROVIDER: 'local', STORAGE_PATH: 'artifacts', STORAGE_PATH_USE_TMP_FOLDER: 'false', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = started(child)
  await listening(port, child, log)
  return { url: `http://127.0.0.1:${port}`, storage: join(dir, 'artifacts'), token, team: 'upscale-tests' }
}
