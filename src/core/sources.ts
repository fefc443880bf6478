import { readdir, stat } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import picomatch from 'picomatch'

/** Extensions of the image files a folder or a glob picks up. */
const IMAGE_FILE = /\.(?:jpe?g|png|webp|avif|tiff?)$/i
const GLOB_CHARS = /[*?[\]{}]/

export interface Source {
  /** absolute path */
  file: string
  /** the folder under the output folder where its result goes: '' for a file named directly */
  subdir: string
}

/**
 * The files a command line names: files as they are, folders walked for images (their subfolders
 * kept, relative to the folder), globs expanded here (quoted, they work the same on every shell;
 * the part before the first wildcard is the folder they are relative to).
 */
export async function expandSources(args: string[], cwd: string): Promise<Source[]> {
  const found: Source[] = []
  for (const arg of args) {
    if (GLOB_CHARS.test(arg)) {
      const pattern = arg.replaceAll('\\', '/')
      const base = resolve(cwd, staticPrefix(pattern))
      const isMatch = picomatch(resolve(cwd, pattern).replaceAll(sep, '/'), { dot: false })
      const files = (await walk(base)).filter(f => isMatch(f.replaceAll(sep, '/')))
      if (files.length === 0)
        throw new Error(`no file matches ${JSON.stringify(arg)}`)
      found.push(...files.map(file => ({ file, subdir: relative(base, dirname(file)) })))
      continue
    }
    const file = resolve(cwd, arg)
    const info = await stat(file).catch(() => undefined)
    if (info?.isDirectory()) {
      const images = (await walk(file)).filter(f => IMAGE_FILE.test(f))
      if (images.length === 0)
        throw new Error(`the folder ${arg} holds no image (${IMAGE_FILE.source.slice(4, -3).replaceAll('\\', '')})`)
      found.push(...images.map(f => ({ file: f, subdir: relative(file, dirname(f)) })))
    }
    else {
      found.push({ file, subdir: '' })
    }
  }
  return found
}

/** The folder part of a glob before its first wildcard. */
function staticPrefix(pattern: string): string {
  const parts = pattern.split('/')
  const i = parts.findIndex(p => GLOB_CHARS.test(p))
  return parts.slice(0, i).join('/') || '.'
}

/** Every regular file under a folder, sorted, not following links to folders (no loops), skipping node_modules. */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  const files: string[] = []
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
      files.push(...await walk(path))
    else if (e.isFile() || (e.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()))
      files.push(path)
  }
  return files.sort()
}
