import { createFarmPlugin } from 'unplugin'
import { unpluginFactory } from '.'

export default createFarmPlugin(unpluginFactory)
