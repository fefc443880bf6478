import { createBunPlugin } from 'unplugin'
import { unpluginFactory } from '.'

export default createBunPlugin(unpluginFactory)
