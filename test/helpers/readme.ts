import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8')

/**
 * The fenced code blocks of one README section (`### Astro`…), in order: the tests build exactly
 * what the README shows.
 */
export function readmeSnippets(heading: string): string[] {
  const start = README.indexOf(`\n${heading}\n`)
  if (start < 0)
    throw new Error(`README has no section ${heading}`)
  const rest = README.slice(start + heading.length + 2)
  const end = rest.search(/\n#{2,3} /)
  const section = end < 0 ? rest : rest.slice(0, end)
  return [...section.matchAll(/```\w*\n([\s\S]*?)```/g)].map(m => m[1])
}
