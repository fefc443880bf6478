/** nginx with WebDAV PUT on a loopback port, for the remote-tier row of the bench (Debian's nginx). */
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
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end()
        r(true)
      }).on('error', () => r(false))
    })
    if (up)
      break
    await new Promise(r => setTimeout(r, 50))
  }
  return { url: `http://127.0.0.1:${port}/cache`, stop: () => child.kill('SIGTERM') }
}
