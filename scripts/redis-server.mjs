// Starts and stops a throwaway `redis-server` (Debian's package `redis-server`) on a free local port,
// for the BullMQ worker tests: no persistence, bound to 127.0.0.1, gone when stopped. Run directly
// (`node scripts/redis-server.mjs`) it starts one, prints its URL and stops it on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** The Debian package that provides the binary (named in skip lines and errors). */
export const REDIS_PACKAGE = 'redis-server';

/** Whether `redis-server` can be run here. */
export function hasRedisServer() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; released before returning). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server` on a free port and resolves once it accepts connections, with its URL and a
 * `stop()` that ends it (and resolves when it has exited).
 * @returns {Promise<{ url: string, port: number, stop: () => Promise<void> }>}
 */
export async function startRedisServer() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start redis-server (Debian package ${REDIS_PACKAGE}): ${error.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout.setEncoding('utf8').on('data', (text) => {
      output += text;
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const redis = await startRedisServer();
  console.log(redis.url);
  process.once('SIGINT', () => void redis.stop().then(() => process.exit(0)));
}
