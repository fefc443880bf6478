import type { Options } from './types'
import UpscaleRspack from './rspack'
import UpscaleWebpack from './webpack'

/** What Docusaurus hands `configureWebpack` as its third argument (3.6 and later). */
interface ConfigureUtils {
  currentBundler?: { name?: string }
}

/** The parts of a Docusaurus plugin this one has. */
export interface DocusaurusPlugin {
  name: string
  configureWebpack: (config: unknown, isServer: boolean, utils?: ConfigureUtils) => { plugins: unknown[] }
}

/**
 * A Docusaurus plugin: `plugins: [['unplugin-upscale/docusaurus', options]]`. It adds the webpack
 * entry or the Rspack one, whichever bundler the site builds with (`future.faster` and
 * `future.v4` switch to Rspack), to both the client and the server compilation; those run as one
 * multi-compiler, so the build prints one summary that counts each image once.
 */
export default function upscaleDocusaurus(
  _context: unknown,
  options: Options & { id?: string } = {},
): DocusaurusPlugin {
  // Docusaurus adds the plugin instance's `id` ('default') to the options it is given
  const { id: _id, ...own } = options
  return {
    name: 'unplugin-upscale',
    configureWebpack(_config, _isServer, utils) {
      const rspack = utils?.currentBundler?.name === 'rspack'
      return { plugins: [rspack ? UpscaleRspack(own) : UpscaleWebpack(own)] }
    },
  }
}
