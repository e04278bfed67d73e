export { createDispatcher, type Dispatcher, type DispatcherInit, type DispatchOptions, type DispatchResult, type SendJob, type SendOptions } from './dispatcher.js'
export { defaultDispatcherOptions, type DispatcherOptions } from './options.js'
export * from './errors.js'
