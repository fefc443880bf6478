import { isAbsolute, relative } from 'node:path'
import picomatch from 'picomatch'

export type FilterPattern = string | RegExp | ReadonlyArray<string | RegExp>

function toMatchers(pattern: FilterPattern | undefined, root: string): Array<(file: string) => boolean> {
  if (pattern === undefined)
    return []
  const list = (Array.isArray(pattern) ? pattern : [pattern]) as Array<string | RegExp>
  return list.map((p) => {
    if (p instanceof RegExp)
      return (file: string) => {
        p.lastIndex = 0
        return p.test(file)
      }
    const isMatch = picomatch(p, { dot: true })
    return isAbsolute(p)
      ? (file: string) => isMatch(toPosix(file))
      : (file: string) => isMatch(toPosix(relative(root, file)))
  })
}

const toPosix = (file: string): string => file.replaceAll('\\', '/')

/**
 * A predicate over absolute file paths: globs are matched relative to `root` (or as given when
 * absolute), RegExps against the absolute path. No include means everything is included.
 */
export function createFileFilter(
  include: FilterPattern | undefined,
  exclude: FilterPattern | undefined,
  root: string,
): (file: string) => boolean {
  const includes = toMatchers(include, root)
  const excludes = toMatchers(exclude, root)
  return (file) => {
    if (excludes.some(m => m(file)))
      return false
    return includes.length === 0 || includes.some(m => m(file))
  }
}
