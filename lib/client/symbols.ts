/** The client's internals that its connections call, on symbols: not part of its public API. */

/** Handles a decoded message of a connection (`(connection, message) => void`). */
export const kReceive = Symbol('fastify-wirebox.client.receive')
/** Tells the error listeners (`(error) => void`). */
export const kReport = Symbol('fastify-wirebox.client.report')
/** The problem of an incoming payload when the client validates them (`(kind, name, payload) => error | undefined`). */
export const kProblem = Symbol('fastify-wirebox.client.problem')
/** A connection's socket closed (`(connection, code) => void`). */
export const kClosed = Symbol('fastify-wirebox.client.closed')
/** The connection a `ws` socket belongs to, on the socket (the Node entry's listeners find it there). */
export const kConnection = Symbol('fastify-wirebox.client.connection')
