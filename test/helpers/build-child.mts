// Runs one `vite build` with the plugin in its own process, so a test can read every byte it
// prints (rolldown writes some lines from native code, past any in-process capture), run several
// builds at once, or kill one.
//   tsx test/helpers/build-child.mts '{"dir": …, "options": {…}, "outDir": "dist"}'
import { join } from 'node:path'
import { build } from 'vite'
import Upscale from '../../src/vite'

const { dir, options, outDir } = JSON.parse(process.argv[2])
try {
  await build({
    root: dir,
    configFile: false,
    logLevel: 'info',
    plugins: [Upscale({ cacheDir: join(dir, '.cache'), ...options })],
    build: { outDir, rollupOptions: { input: join(dir, 'src/main.js') } },
  })
}
catch (error) {
  console.error((error as Error).stack ?? error)
  process.exitCode = 1
}
// peak memory of the whole build, for the tests that bound it (kilobytes)
console.log(`maxRSS ${process.resourceUsage().maxRSS}`)
