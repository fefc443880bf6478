import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Write a file so that readers see either nothing or all of it: temp file, fsync, rename. */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx')
  try {
    await handle.writeFile(data)
    await handle.sync()
  }
  catch (error) {
    await handle.close()
    await rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  try {
    await rename(tmp, path)
  }
  catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir loops forever where a parent exists
 * but refuses new entries (a read-only or virtual file system such as /proc), and a build must fail
 * there with the error, not hang.
 */
export async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path)
  }
  catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST')
      return
    const parent = dirname(path)
    if (code !== 'ENOENT' || parent === path)
      throw error
    await ensureDir(parent)
    await mkdir(path).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST')
        throw again
    })
  }
}
