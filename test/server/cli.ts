/**
 * `npm run api:serve`: the loopback contract server, by hand.
 *   PORT=8787 UPSCALE_TEST_TOKEN=secret LATENCY=300 npm run api:serve
 */
import { startScaleServer } from './index'

const server = await startScaleServer({
  port: Number(process.env.PORT ?? 8787),
  token: process.env.UPSCALE_TEST_TOKEN ?? 'local-test-token',
  latency: Number(process.env.LATENCY ?? 0),
})
console.log(`Scale API contract server on ${server.url}`)
console.log(`Try it:  UPSCALE_API_URL=${server.url} UPSCALE_API_TOKEN=${server.token} npm run playground`)
const stop = () => server.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
