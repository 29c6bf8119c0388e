import type { ConnectionOptions } from 'bullmq';
import { InvalidFieldError } from '../errors.js';

/**
 * BullMQ connection options from a Redis URL (`redis://[user:password@]host[:port][/db]`, or
 * `rediss://` for TLS). `maxRetriesPerRequest: null`, as BullMQ's workers require.
 */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidFieldError('redis', `not a URL: ${url}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidFieldError('redis', `must be a redis:// or rediss:// URL, got ${url}`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
    ...(db !== '' && { db: Number(db) }),
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
    maxRetriesPerRequest: null,
  };
}
