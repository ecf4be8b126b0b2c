/**
 * fastify-wirebox/redis: the Redis broker (ioredis), an entry of its own so that the main entry
 * does not load ioredis.
 */
export { redisBroker, MIN_KEY_TTL_MS } from './brokers/redis.js'
export type { RedisBrokerOptions } from './brokers/redis.js'
