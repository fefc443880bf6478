/** nginx with WebDAV PUT on a loopback port (Debian's nginx): for test:servers and the bench's remote-tier row. */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'

export function nginxBinary(): string | undefined {
  return [process.env.NGINX_BIN, '/usr/sbin/nginx', '/usr/bin/nginx'].find(p => p && existsSync(p))
}

export async function startNginx(dir: string, port: number): Promise<{ url: string, stop: () => void }> {
  await mkdir(join(dir, 'root'), { recursive: true })
  await mkdir(join(dir, 'tmp'), { recursive: true })
  await writeFile(join(dir, 'nginx.conf'), `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events {}
http { access_log off; client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server { listen 127.0.0.1:${port}; root ${dir}/root; location / { dav_methods PUT; create_full_put_path on; client_max_body_size 256m; } } }
`)
  const child = spawn(nginxBinary()!, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' })
  await waitForPort(port, child)
  return { url: `http://127.0.0.1:${port}/cache`, stop: () => child.kill('SIGTERM') }
}

/** Until a server listens on a loopback port (10 s at most), or its process has exited. */
export async function waitForPort(port: number, child: ChildProcess, log: () => string = () => ''): Promise<void> {
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
