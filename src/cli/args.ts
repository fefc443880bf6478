/** What the commands share: usage errors, option parsing, sizes. */
export class UsageError extends Error {}

export const MB = 1024 * 1024
export const size = (bytes: number): string => (bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`)

/** parseArgs, with its complaints (unknown option, missing value) as usage errors. */
export function usage<T>(parse: () => T): T {
  try {
    return parse()
  }
  catch (error) {
    throw new UsageError((error as Error).message)
  }
}
export const HELP_FLAG = { type: 'boolean', short: 'h' } as const

export function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined)
    return fallback
  const n = Number(text)
  if (!(n >= 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number ≥ 0 (got "${text}")`)
  return n
}
