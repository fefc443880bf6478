/** Which modules import which `?upscale` id: for messages, and for the dev server's rule. */
import { BUNDLER_KEYS } from './query'

/**
 * The importers of each `?upscale` id, and the imports the app's modules, stylesheets and pages
 * make (without bundler keys): the dev server enhances, and so pays, only for those.
 */
export class Importers {
  private readonly byId = new Map<string, Set<string>>()
  private readonly imported = new Set<string>()

  constructor(private readonly show: (file: string) => string) {}

  remember(id: string, importer: string): void {
    const set = this.byId.get(id) ?? new Set()
    this.byId.set(id, set.add(importer.split('?')[0]))
    this.imported.add(withoutBundlerKeys(id))
  }

  /** Whether a module of the app (or a stylesheet, or a page) refers to this import. */
  has(id: string): boolean {
    return this.imported.has(withoutBundlerKeys(id))
  }

  /** The import as messages show it: path from the root, query, and who imports it. */
  describe(id: string): string {
    const file = id.slice(0, id.indexOf('?'))
    const by = [...this.byId.get(id) ?? []].map(i => this.show(i))
    return `${this.show(file)}${id.slice(file.length)}${by.length ? ` (imported by ${by.join(', ')})` : ''}`
  }
}

/** An id without the query keys bundlers add (`import`, `t`, `v`…), to compare imports by. */
function withoutBundlerKeys(id: string): string {
  const q = id.indexOf('?')
  const query = new URLSearchParams(id.slice(q + 1))
  for (const key of BUNDLER_KEYS)
    query.delete(key)
  return `${id.slice(0, q)}?${query}`
}
