/**
 * The loopback API server in a process of its own, for section 2: a real service does its work on
 * another machine, so its CPU must not be the build's. Tells its URL and token over IPC, answers
 * 'stats' with its counters, and ends on 'close'.
 */
import { startScaleServer } from '../test/server'

const server = await startScaleServer({ latency: Number(process.env.LATENCY ?? 0) })
process.send!({ url: server.url, token: server.token })
process.on('message', async (message) => {
  if (message === 'stats') {
    const { submits, maxParallel } = server.stats
    process.send!({ submits, maxParallel })
  }
  if (message === 'close') {
    await server.close()
    process.exit(0)
  }
})
