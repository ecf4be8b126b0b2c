/**
 * The protocol's own message schemas (schemas/*.ts) as JSON Schema 2020-12 files, written to
 * schemas/json/ by `npm run schemas` and kept in sync by a test.
 */
import { Envelope, JsonEnvelope } from '../../schemas/envelope.js'
import { Negotiation, VersionCheck } from '../../schemas/negotiation.js'
import { ErrorPayload } from '../../schemas/error.js'
import { Subscription, SubscriptionAck } from '../../schemas/subscription.js'
import { toJsonWireSchema } from './json-schema.js'

const OWN = { envelope: Envelope, 'json-envelope': JsonEnvelope, negotiation: Negotiation, 'version-check': VersionCheck, error: ErrorPayload, subscription: Subscription, 'subscription-ack': SubscriptionAck }

/** File name -> JSON text of each of the protocol's own schemas. */
export function ownSchemaFiles (): Record<string, string> {
  return Object.fromEntries(Object.entries(OWN).map(([name, schema]) => [
    `${name}.schema.json`,
    JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `urn:wirebox:${name}`, ...(toJsonWireSchema(schema) as object) }, null, 2) + '\n'
  ]))
}
