import { createRolldownPlugin } from 'unplugin'
import { unpluginFactory } from '.'

export default createRolldownPlugin(unpluginFactory)
