import { createInterface } from 'node:readline';
import type { BackendName } from '@tsformer/core-tensor';
import { type CausalLM, type GenerationOptions, generateAll } from '@tsformer/decoding';
import type { ChatMessage } from '@tsformer/models';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { addBackendOption, addOutputOptions, chosenBackend, type OutputOptions } from '../common-options.js';
import { ConversationCache } from '../conversation-cache.js';
import {
  addGenerationFlags,
  type GenerationFlagValues,
  generationOptionsFromFlags,
} from '../generation-flags.js';
import { checkGenerationOptions } from '../generation-setup.js';
import {
  DEFAULT_MODEL_DIR,
  type LoadedModel,
  loadModelFolder,
  requireFolder,
  requireTokenizer,
} from '../model-folder.js';
import type { SetStatus } from '../program.js';

interface ChatOptions extends OutputOptions, GenerationFlagValues {
  model?: string;
  system?: string;
  backend?: BackendName;
}

export function registerChat(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('chat')
    .description(
      "an interactive chat, one user turn per line of stdin (/reset starts over, /exit or end of input ends): turns are formatted with the model's chat template when it has one (plain concatenation otherwise) and the KV cache is kept across turns",
    )
    .option('--model <dir>', 'Hugging Face model folder (default: the bundled models/tiny-llama-docs)')
    .option('--system <text>', 'a system message opening the conversation (chat templates only)');
  addGenerationFlags(command);
  addBackendOption(command);
  addOutputOptions(command);
  command.action((options: ChatOptions) => runChat(options));
}

/** How one turn went: what was reused from the cache and what had to be read. */
interface TurnReport {
  turn: number;
  user: string;
  reply: string;
  /** Conversation tokens whose keys and values were already cached. */
  reusedTokens: number;
  /** Tokens fed to the model before the reply (the turn's new tokens). */
  fedTokens: number;
  newTokens: number;
}

async function runChat(options: ChatOptions): Promise<void> {
  const dir = options.model ?? DEFAULT_MODEL_DIR;
  await requireFolder(dir);
  const generation = await checkGenerationOptions(dir, generationOptionsFromFlags(options));
  if (generation.resolved.numBeams !== 1 || generation.resolved.numReturnSequences !== 1) {
    throw new UsageError(
      'chat generates one reply per turn: --num-beams and --num-return-sequences must be 1',
    );
  }
  if (!generation.resolved.useCache) {
    throw new UsageError('chat keeps the KV cache across turns: it cannot run with --no-cache');
  }
  const loaded = await loadModelFolder(dir, chosenBackend(options.backend));
  if (loaded.family.task !== 'causal-lm') {
    loaded.model.dispose();
    throw new UsageError(
      `chat needs a decoder-only model; ${dir} is an encoder-decoder (${loaded.family.modelType})`,
    );
  }
  const model = loaded.model as unknown as CausalLM;
  const { maxPositions } = loaded.family.describe(loaded.config);
  if (maxPositions === null) {
    loaded.model.dispose();
    throw new UsageError(`chat sizes its cache by the model's position limit; ${dir} has none`);
  }
  const cache = model.createCache(1, maxPositions, generation.resolved.cacheImplementation);
  try {
    await chatLoop(loaded, new ConversationCache(cache), options, generation.commandLine);
  } finally {
    cache.dispose();
    loaded.model.dispose();
  }
}

async function chatLoop(
  loaded: LoadedModel,
  conversation: ConversationCache,
  options: ChatOptions,
  commandLine: GenerationOptions,
): Promise<void> {
  const tokenizer = requireTokenizer(loaded);
  const interactive = process.stdin.isTTY === true && !options.json;
  const lines = createInterface({ input: process.stdin, terminal: interactive });
  const opening: ChatMessage[] =
    options.system !== undefined && tokenizer.hasChatTemplate
      ? [{ role: 'system', content: options.system }]
      : [];
  let messages = [...opening];
  let turn = 0;
  if (interactive) process.stdout.write('> ');
  for await (const line of lines) {
    const text = line.trim();
    if (text === '/exit') break;
    if (text === '/reset') {
      messages = [...opening];
    } else if (text !== '') {
      turn += 1;
      messages.push({ role: 'user', content: text });
      const ids = tokenizer.hasChatTemplate
        ? tokenizer.encodeChat(messages, { addGenerationPrompt: true })
        : tokenizer.encode(plainConversation(messages));
      const reusedTokens = conversation.prepare(ids);
      const output = await generateAll(
        loaded.model as CausalLM,
        { inputIds: [ids], attentionMask: [ids.map(() => 1)] },
        {
          ...commandLine,
          tokenDecoder: tokenizer,
          cache: conversation.cache,
          ...(!options.json && { onText: (piece: string) => process.stdout.write(piece) }),
          ...(options.seed !== undefined && { seed: options.seed }),
        },
      );
      const sequence = output.sequences[0]!;
      conversation.record(sequence);
      const generated = sequence.slice(ids.length);
      const reply = tokenizer.decode(generated, { skipSpecialTokens: true });
      messages.push({ role: 'assistant', content: reply });
      const report: TurnReport = {
        turn,
        user: text,
        reply,
        reusedTokens,
        fedTokens: ids.length - reusedTokens,
        newTokens: generated.length,
      };
      if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write('\n');
      if (interactive) {
        process.stderr.write(
          `[${report.fedTokens} tokens read, ${report.reusedTokens} reused from the cache]\n`,
        );
      }
    }
    if (interactive) process.stdout.write('> ');
  }
  lines.close();
}

/**
 * A conversation without a chat template, as plain text: each reply continues the user's text it
 * answers, and each user turn after the first starts a new line.
 */
function plainConversation(messages: readonly ChatMessage[]): string {
  return messages
    .map((message, index) =>
      message.role === 'user' && index > 0 ? `\n${message.content}` : message.content,
    )
    .join('');
}
