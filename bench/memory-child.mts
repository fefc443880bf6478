// One cold `vite build` on the local engine in a fresh process; prints its peak RSS.
//   tsx bench/memory-child.mts <project dir> <image count>
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'vite'
import Upscale from '../src/vite'

const [dir, count] = [process.argv[2], Number(process.argv[3])]
const imports = Array.from({ length: count }, (_, i) => `import i${i} from './big/${i}.jpg?upscale'`)
await writeFile(join(dir, `mem${count}.js`), `${imports.join('\n')}\nexport default [${imports.map((_, i) => `i${i}`).join(',')}]\n`)
await build({
  root: dir,
  configFile: false,
  logLevel: 'silent',
  plugins: [Upscale({ provider: 'local', cacheDir: join(dir, `.cache-mem${count}`), logLevel: 'silent' })],
  build: { outDir: join(dir, `dist-mem${count}`), rollupOptions: { input: join(dir, `mem${count}.js`) } },
})
console.log(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }))
