import { readFile } from 'node:fs/promises';
import type { BackendName } from '@tsformer/core-tensor';
import { createServer, loadServedModel } from '@tsformer/server';
import type { Command } from 'commander';
import { InputFileError } from '../cli-errors.js';
import { addBackendOption, chosenBackend } from '../common-options.js';
import { requireFolder } from '../model-folder.js';
import { integerAtLeast } from '../option-parsers.js';
import type { SetStatus } from '../program.js';

interface ServeCommandOptions {
  model: string;
  name?: string;
  host: string;
  port: number;
  maxBatch: number;
  maxQueue: number;
  chatTemplate?: string;
  requestTimeout: number;
  backend?: BackendName;
}

export function registerServe(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('serve')
    .description(
      'serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models, ' +
        '/health, /metrics), batching concurrent requests; stops on SIGINT or SIGTERM',
    )
    .requiredOption('--model <dir>', 'Hugging Face model folder (decoder-only, with tokenizer.json)')
    .option('--name <id>', "the model's name in the API (default: the folder's name)")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', integerAtLeast(0), 8080)
    .option('--max-batch <n>', 'requests decoded together', integerAtLeast(1), 8)
    .option('--max-queue <n>', 'requests waiting for a batch row before 429s', integerAtLeast(1), 64)
    .option('--chat-template <file>', "a Jinja chat template replacing the folder's")
    .option('--request-timeout <seconds>', 'cancel a request after this long (504)', integerAtLeast(1), 600);
  addBackendOption(command);
  command.action((options: ServeCommandOptions) => runServe(options));
}

async function runServe(options: ServeCommandOptions): Promise<void> {
  await requireFolder(options.model);
  const chatTemplate =
    options.chatTemplate === undefined ? undefined : await readTemplate(options.chatTemplate);
  const served = await loadServedModel(options.model, {
    ...(options.name !== undefined && { id: options.name }),
    backend: chosenBackend(options.backend),
    maxBatch: options.maxBatch,
    maxQueue: options.maxQueue,
    ...(chatTemplate !== undefined && { chatTemplate }),
  });
  const app = createServer({ models: [served], requestTimeoutMs: options.requestTimeout * 1000 });
  const address = await app.listen({ host: options.host, port: options.port });
  process.stdout.write(`tsformer: serving ${served.id} at ${address}/v1\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void app.close().then(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function readTemplate(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(`--chat-template ${path}: ${(error as Error).message}`);
  }
}
