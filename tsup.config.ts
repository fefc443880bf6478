import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    'index': 'src/index.ts',
    'vite': 'src/vite.ts',
    'rollup': 'src/rollup.ts',
    'webpack': 'src/webpack.ts',
    'esbuild': 'src/esbuild.ts',
    'rspack': 'src/rspack.ts',
    'rolldown': 'src/rolldown.ts',
    'bun': 'src/bun.ts',
    'farm': 'src/farm.ts',
    'api': 'src/api.ts',
    'next': 'src/next/index.ts',
    'docusaurus': 'src/docusaurus.ts',
    'next-loader': 'src/next/loader.ts',
    'cli': 'src/cli.ts',
    // the local engine's worker thread, beside the chunks that start it (see engines/local/pool.ts)
    'local-worker': 'src/core/engines/local/worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  splitting: true,
  target: 'node20',
  shims: true,
})
