export { ensureDir, writeAtomic } from './atomic'
export { enhancementKey, variantKey } from './keys'
export { adoptLegacyCache } from './legacy'
export {
  CACHE_FORMAT,
  DEFAULT_CACHE_DIR,
  defaultCacheDir,
  extensionOf,
  isKeyFolder,
  NAMED_DIR,
  PRUNE_MARKER,
  REMOTE_STATS,
  TOP_TEMP_FILE,
} from './layout'
export { clearJournal, readJournal, writeJournal } from './journal'
export type { JournaledTask } from './journal'
export { clear, pruneIfDue, readJson, recordRemoteStats } from './prune'
export type { RemoteTotals } from './prune'
export type { CacheRecord } from './record'
export { DiskCache } from './store'
export type { CacheEntry, Lookup } from './store'
export { InFlight } from '../limits'
