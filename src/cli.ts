#!/usr/bin/env node
import { createRequire } from 'node:module'
import process from 'node:process'
import { UsageError } from './cli/args'
import { cache } from './cli/cache'
import { enhance } from './cli/enhance'
import { HELP } from './cli/help'

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === 'enhance')
      return await enhance(rest)
    if (command === 'cache')
      return await cache(rest)
    if (command === '--help' || command === '-h' || command === 'help') {
      console.log(HELP.main)
      return 0
    }
    if (command === '--version' || command === '-v') {
      console.log(createRequire(import.meta.url)('../package.json').version)
      return 0
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'name a command')
  }
  catch (error) {
    if (error instanceof UsageError) {
      console.error(`unplugin-upscale: ${error.message}\n\n${HELP.main}`)
      return 2
    }
    console.error(`unplugin-upscale: ${(error as Error).message}`)
    return 1
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
