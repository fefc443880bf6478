import { createEsbuildPlugin } from 'unplugin'
import { unpluginFactory } from '.'

export default createEsbuildPlugin(unpluginFactory)
