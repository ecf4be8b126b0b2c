/**
 * fastify-wirebox: the wire core with the Node.js platform. (The Fastify plugin builds on this.)
 */
export * from './core/index.js'
export { nodePlatform } from './platform/node.js'
