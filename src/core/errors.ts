import { relative } from 'node:path'

export const PREFIX = '[unplugin-upscale]'

/** An error the user can act on; `plugin` lets bundlers show it without a stack. */
export class UpscaleError extends Error {
  override name = 'UpscaleError'
  readonly plugin = 'unplugin-upscale'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith(PREFIX) ? message : `${PREFIX} ${message}`, options)
  }
}

/** A path short enough to read in a message: relative to the root when that is shorter. */
export function displayPath(file: string, root: string): string {
  const rel = relative(root, file).replaceAll('\\', '/')
  return rel && rel.length < file.length ? rel : file
}
