import { createServer } from '@tsformer/server';
import type { Command } from 'commander';
import { integerAtLeast } from '../option-parsers.js';
import type { SetStatus } from '../program.js';
import {
  addServedModelOptions,
  loadServedModelFromFlags,
  type ServedModelFlags,
  untilStopSignal,
} from '../served-model-options.js';

interface ServeCommandOptions extends ServedModelFlags {
  host: string;
  port: number;
  requestTimeout: number;
}

export function registerServe(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('serve')
    .description(
      'serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models, ' +
        '/health, /metrics), batching concurrent requests; stops on SIGINT or SIGTERM',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', integerAtLeast(0), 8080)
    .option('--request-timeout <seconds>', 'cancel a request after this long (504)', integerAtLeast(1), 600);
  addServedModelOptions(command);
  command.action((options: ServeCommandOptions) => runServe(options));
}

async function runServe(options: ServeCommandOptions): Promise<void> {
  const served = await loadServedModelFromFlags(options);
  const app = createServer({ models: [served], requestTimeoutMs: options.requestTimeout * 1000 });
  const address = await app.listen({ host: options.host, port: options.port });
  process.stdout.write(`tsformer: serving ${served.id} at ${address}/v1\n`);
  await untilStopSignal();
  await app.close();
}
