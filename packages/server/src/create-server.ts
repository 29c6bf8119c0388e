import Fastify, { type FastifyInstance } from 'fastify';
import { registerOpenAIRoutes } from './openai-routes.js';
import type { ServedModel } from './served-model.js';
import { ServerMetrics } from './server-metrics.js';

export interface ServerOptions {
  /** The models served, each under its `id`. */
  readonly models: readonly ServedModel[];
  /** Largest request body accepted, in bytes (default 1 MiB; larger bodies get 413). */
  readonly bodyLimit?: number;
  /** A request still running after this many milliseconds is cancelled with a 504 (default 10 minutes). */
  readonly requestTimeoutMs?: number;
  /** fastify's logger (default off). */
  readonly logger?: boolean;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * A fastify server with the OpenAI-compatible endpoints for `models` (not listening yet: call
 * `listen({ port, host })`, or `inject` in tests). Closing it closes the models' schedulers.
 * An app that has its own fastify instance can call `registerOpenAIRoutes` inside a plugin instead.
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logger ?? false,
  });
  registerOpenAIRoutes(app, {
    models: options.models,
    metrics: new ServerMetrics(),
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  });
  app.addHook('onClose', async () => {
    await Promise.all(options.models.map((model) => model.close()));
  });
  return app;
}
