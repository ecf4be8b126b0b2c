/**
 * What the Redis broker reads back from Redis, checked before use: Redis is untrusted input.
 */

/** The topic whose channel is exactly `channel` (`prefix` then the topic in UTF-8), or undefined. */
export function topicOfChannel (prefix: Buffer, channel: Buffer): string | undefined {
  if (channel.length <= prefix.length || !channel.subarray(0, prefix.length).equals(prefix)) return undefined
  const bytes = channel.subarray(prefix.length)
  const topic = bytes.toString('utf8')
  // Invalid UTF-8 decodes to U+FFFD: such a channel is no topic's, not the topic with U+FFFD.
  return Buffer.from(topic, 'utf8').equals(bytes) ? topic : undefined
}
