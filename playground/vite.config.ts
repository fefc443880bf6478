import Upscale from 'unplugin-upscale/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [Upscale()],
})
