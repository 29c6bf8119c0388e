import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CompletionRequest, readChatRequest, readTextRequest } from './completion-request.js';
import { DeadlineExceeded, errorResponse } from './error-response.js';
import { UnknownModelError } from './errors.js';
import { chunk, completionResponse, responseIdentity, usageChunk } from './openai-responses.js';
import type { ServedModel } from './served-model.js';
import type { ServerMetrics } from './server-metrics.js';

export interface OpenAIRoutesOptions {
  readonly models: readonly ServedModel[];
  readonly metrics: ServerMetrics;
  /** A request still running after this many milliseconds is cancelled (504). */
  readonly requestTimeoutMs: number;
}

/**
 * Registers OpenAI's endpoints (`POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`)
 * and `GET /health`, `GET /metrics` on a fastify instance (or a plugin scope an app mounts), with an
 * error handler that answers in OpenAI's error shape.
 */
export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIRoutesOptions): void {
  const { models, metrics } = options;
  const statsOfModels = () => models.map((model) => ({ id: model.id, stats: model.stats() }));

  app.setErrorHandler((error, request, reply) => {
    const response = errorResponse(error);
    if (response.status >= 500) request.log.error(error);
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        message: `no route ${request.method} ${request.url}`,
        type: 'not_found_error',
        param: null,
        code: null,
      },
    }),
  );
  app.addHook('onResponse', async (request, reply) => {
    metrics.recordRequest(request.routeOptions.url ?? 'unknown', reply.statusCode);
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(metrics.render(statsOfModels())),
  );
  app.get('/v1/models', async () => ({
    object: 'list',
    data: models.map((model) => ({
      id: model.id,
      object: 'model',
      created: model.created,
      owned_by: 'tsformer',
    })),
  }));

  const complete =
    (read: (body: unknown) => CompletionRequest) => async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = read(request.body);
      const model = models.find((candidate) => candidate.id === parsed.model);
      if (!model)
        throw new UnknownModelError(
          parsed.model,
          models.map((candidate) => candidate.id),
        );
      const cancel = new AbortController();
      const deadline = setTimeout(
        () =>
          cancel.abort(
            new DeadlineExceeded(`the request ran past its ${options.requestTimeoutMs} ms deadline`),
          ),
        options.requestTimeoutMs,
      );
      // The response closing before it was written out: the client left, so its rows leave the batch.
      const clientLeft = () => {
        if (!reply.raw.writableEnded) cancel.abort(new Error('the client disconnected'));
      };
      reply.raw.on('close', clientLeft);
      const started = performance.now();
      const onFirstToken = () => metrics.recordTimeToFirstToken((performance.now() - started) / 1000);
      try {
        if (parsed.stream) return await streamCompletion(model, parsed, reply, cancel.signal, onFirstToken);
        const completion = await model.complete(parsed, { signal: cancel.signal, onFirstToken });
        return completionResponse(parsed, responseIdentity(parsed), completion);
      } finally {
        clearTimeout(deadline);
        reply.raw.off('close', clientLeft);
        metrics.sampleTokens(statsOfModels());
      }
    };
  app.post('/v1/chat/completions', complete(readChatRequest));
  app.post('/v1/completions', complete(readTextRequest));
}

/**
 * Streams a completion as server-sent events in OpenAI's chunk format, ending with `data: [DONE]`.
 * The response starts with the first text, so a request refused before any token (a bad field, a full
 * queue) still gets its own status; an error after that is sent as a last `data: {"error": …}` event
 * (the request is counted in the metrics, by the onResponse hook, with status 200).
 */
async function streamCompletion(
  model: ServedModel,
  request: CompletionRequest,
  reply: FastifyReply,
  signal: AbortSignal,
  onFirstToken: () => void,
): Promise<void> {
  const identity = responseIdentity(request);
  const send = (data: unknown) => reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  const opened = new Set<number>();
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
  };
  try {
    const completion = await model.complete(request, {
      signal,
      onFirstToken,
      onDelta: (index, text, logprobs) => {
        start();
        send(chunk(request, identity, index, { text, first: !opened.has(index), logprobs }));
        opened.add(index);
      },
    });
    start();
    for (const choice of completion.choices) {
      send(
        chunk(request, identity, choice.index, {
          first: !opened.has(choice.index),
          finish: choice.finishReason,
        }),
      );
    }
    if (request.includeUsage) send(usageChunk(request, identity, completion));
    reply.raw.end('data: [DONE]\n\n');
  } catch (error) {
    if (!started) throw error;
    if (!reply.raw.destroyed) {
      send(errorResponse(error).body);
      reply.raw.end('data: [DONE]\n\n');
    }
  }
}
