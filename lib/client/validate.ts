/**
 * `fastify-wirebox/client/validate`: payload validation for the browser client, opt-in so that
 * the schema compiler is bundled only by those who use it:
 * `createClient(url, { protocol, validator: validatePayload })`.
 */
export { validatePayload } from '../protocol.js'
