import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'

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
