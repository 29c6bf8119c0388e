import { createInterface } from 'node:readline';
import {
  type CausalLM,
  type GenerateOptions,
  GenerationAbortedError,
  generate,
  type PositionLimit,
} from '@tsformer/decoding';
import { type ChatMessage, Conversation, ConversationCache, plainConversation } from '@tsformer/models';
import { type Command, Option } from 'commander';
import { ChatInterrupts, EXIT_INTERRUPTED } from '../chat-interrupts.js';
import { UsageError } from '../cli-errors.js';
import {
  addModelRunOptions,
  addOutputOptions,
  chosenBackend,
  type ModelRunOptions,
  type OutputOptions,
} from '../common-options.js';
import {
  addGenerationFlags,
  type GenerationFlagValues,
  generationOptionsFromFlags,
} from '../generation-flags.js';
import {
  type CheckedGeneration,
  checkGenerationOptions,
  checkTokenIds,
  DEFAULT_MAX_NEW_TOKENS,
} from '../generation-setup.js';
import {
  DEFAULT_MODEL_DIR,
  type LoadedModel,
  loadModelFolder,
  requireFolder,
  requireTokenizer,
} from '../model-folder.js';
import { integerAtLeast } from '../option-parsers.js';
import type { SetStatus } from '../program.js';

interface ChatOptions extends OutputOptions, ModelRunOptions, GenerationFlagValues {
  model?: string;
  system?: string;
  maxContext?: number;
}

export function registerChat(program: Command, setStatus: SetStatus): void {
  const command = program
    .command('chat')
    .description(
      "an interactive chat, one user turn per line of stdin (/reset starts over, /exit or end of input ends): turns are formatted with the model's chat template when it has one (plain concatenation otherwise) and the KV cache is kept across turns. " +
        'When the next turn and its reply (--max-new-tokens) would not fit the context, the oldest turns are dropped (a notice says so). ' +
        'Ctrl-C during a reply stops it (the partial reply stays in the conversation); Ctrl-C at the prompt ends the chat (exit status 130)',
    )
    .option('--model <dir>', 'Hugging Face model folder (default: the bundled models/tiny-llama-docs)')
    .option('--system <text>', 'a system message opening the conversation (chat templates only)')
    .addOption(
      new Option(
        '--max-context <n>',
        "tokens the conversation and the next reply may take (default: the model's positions)",
      ).argParser(integerAtLeast(1)),
    );
  addGenerationFlags(command);
  addModelRunOptions(command);
  addOutputOptions(command);
  command.action((options: ChatOptions) => runChat(options, setStatus));
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
  /** Oldest turns dropped before this one so that it fits the context. */
  droppedTurns: number;
  /** Whether Ctrl-C stopped the reply (what was generated is kept). */
  interrupted: boolean;
}

/** The token budgets of a chat: the whole context, and the longest reply. */
interface ChatLimits {
  contextTokens: number;
  replyTokens: number;
}

async function runChat(options: ChatOptions, setStatus: SetStatus): Promise<void> {
  const dir = options.model ?? DEFAULT_MODEL_DIR;
  await requireFolder(dir);
  if (options.maxLength !== undefined) {
    throw new UsageError(
      'chat bounds each reply with --max-new-tokens and the conversation with --max-context: --max-length does not apply',
    );
  }
  const generation = await checkGenerationOptions(dir, generationOptionsFromFlags(options));
  if (generation.resolved.numBeams !== 1 || generation.resolved.numReturnSequences !== 1) {
    throw new UsageError(
      'chat generates one reply per turn: --num-beams and --num-return-sequences must be 1',
    );
  }
  if (!generation.resolved.useCache) {
    throw new UsageError('chat keeps the KV cache across turns: it cannot run with --no-cache');
  }
  const loaded = await loadModelFolder(dir, chosenBackend(options.backend), options.dtype);
  const model = loaded.model as unknown as CausalLM;
  let cache: ReturnType<CausalLM['createCache']> | undefined;
  try {
    if (loaded.family.task !== 'causal-lm') {
      throw new UsageError(
        `chat needs a decoder-only model; ${dir} is an encoder-decoder (${loaded.family.modelType})`,
      );
    }
    checkTokenIds(generation, model.vocabSize);
    const limits = chatLimits(
      positionLimitOf(loaded, dir, options.maxContext),
      generation,
      options.maxContext,
    );
    cache = model.createCache(1, limits.contextTokens, generation.resolved.cacheImplementation);
    const interrupted = await chatLoop(loaded, new ConversationCache(cache), limits, options, generation);
    if (interrupted) setStatus(EXIT_INTERRUPTED);
  } finally {
    cache?.dispose();
    loaded.model.dispose();
  }
}

/**
 * Where the model's positions end (models that do not say: the positions its config describes; a
 * model without any limit takes `--max-context` as its budget, which it then needs).
 */
function positionLimitOf(loaded: LoadedModel, dir: string, maxContext: number | undefined): PositionLimit {
  const told = (loaded.model as unknown as CausalLM).positionLimit;
  if (told) return told;
  const { maxPositions } = loaded.family.describe(loaded.config);
  if (maxPositions !== null) return { maxPositions, kind: 'learned' };
  if (maxContext === undefined) {
    throw new UsageError(`${dir} sets no position limit: give the conversation's budget with --max-context`);
  }
  return { maxPositions: maxContext, kind: 'extrapolating' };
}

/**
 * The context is `--max-context`, by default the model's positions; past a learned table there is
 * nothing to read, so it cannot be larger then. Replies take up to `--max-new-tokens` (64 unless
 * generation_config.json sets max_new_tokens), which must leave room for a message.
 */
function chatLimits(
  positions: PositionLimit,
  generation: CheckedGeneration,
  maxContext: number | undefined,
): ChatLimits {
  const contextTokens = maxContext ?? positions.maxPositions;
  if (positions.kind === 'learned' && contextTokens > positions.maxPositions) {
    throw new UsageError(
      `--max-context ${contextTokens} is more than the model's ${positions.maxPositions} positions (a learned position table)`,
    );
  }
  // A max_length of generation_config.json does not bound chat replies (each one is new tokens).
  const replyTokens = generation.resolved.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (replyTokens >= contextTokens) {
    throw new UsageError(
      `a context of ${contextTokens} tokens leaves no room for a message beside a reply of up to ${replyTokens} (--max-new-tokens)`,
    );
  }
  return { contextTokens, replyTokens };
}

/** Runs the turns until /exit, the end of input or Ctrl-C at the prompt; true for the last. */
async function chatLoop(
  loaded: LoadedModel,
  conversationCache: ConversationCache,
  limits: ChatLimits,
  options: ChatOptions,
  generation: CheckedGeneration,
): Promise<boolean> {
  const tokenizer = requireTokenizer(loaded);
  const interactive = process.stdin.isTTY === true && !options.json;
  const lines = createInterface({ input: process.stdin, terminal: interactive });
  const interrupts = new ChatInterrupts(lines);
  const opening: ChatMessage[] =
    options.system !== undefined && tokenizer.hasChatTemplate
      ? [{ role: 'system', content: options.system }]
      : [];
  const conversation = new Conversation(opening, (messages) =>
    tokenizer.hasChatTemplate
      ? tokenizer.encodeChat(messages, { addGenerationPrompt: true })
      : tokenizer.encode(plainConversation(messages)),
  );
  let warned = false;
  const generationOptions: GenerateOptions = {
    ...generation.commandLine,
    maxNewTokens: limits.replyTokens,
    tokenDecoder: tokenizer,
    cache: conversationCache.cache,
    ...(!options.json && { onText: (piece: string) => process.stdout.write(piece) }),
    ...(options.seed !== undefined && { seed: options.seed }),
    // A context past a rotary model's positions (--max-context): said once, not every turn.
    onWarning: (message: string) => {
      if (!warned) process.stderr.write(`tsformer: warning: ${message}\n`);
      warned = true;
    },
  };
  let turn = 0;
  try {
    if (interactive) process.stdout.write('> ');
    for await (const line of lines) {
      if (interrupts.exitRequested) break;
      const text = line.trim();
      if (text === '/exit') break;
      if (text === '/reset') {
        conversation.reset();
      } else if (text !== '') {
        const prepared = conversation.ask(text, limits.contextTokens, limits.replyTokens);
        if ('promptTokens' in prepared) {
          process.stderr.write(
            `[not sent: this message makes a prompt of ${prepared.promptTokens} tokens, which with a reply of up to ${limits.replyTokens} does not fit the context of ${limits.contextTokens}]\n`,
          );
        } else {
          turn += 1;
          if (prepared.droppedTurns > 0) {
            const dropped = prepared.droppedTurns === 1 ? 'turn' : `${prepared.droppedTurns} turns`;
            process.stderr.write(
              `[dropped the oldest ${dropped} to fit the context of ${limits.contextTokens} tokens]\n`,
            );
          }
          const reusedTokens = conversationCache.prepare(prepared.ids);
          const { generated, interrupted } = await reply(
            loaded.model as CausalLM,
            prepared.ids,
            { ...generationOptions, signal: interrupts.startReply() },
            conversationCache,
          );
          interrupts.endReply();
          // A reply stopped before its first token is empty (the tokenizer decodes no empty list).
          const replyText =
            generated.length === 0 ? '' : tokenizer.decode(generated, { skipSpecialTokens: true });
          conversation.answer(replyText);
          const report: TurnReport = {
            turn,
            user: text,
            reply: replyText,
            reusedTokens,
            fedTokens: prepared.ids.length - reusedTokens,
            newTokens: generated.length,
            droppedTurns: prepared.droppedTurns,
            interrupted,
          };
          if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
          else process.stdout.write('\n');
          if (interrupted) process.stderr.write('[reply stopped: it stays in the conversation]\n');
          if (interactive) {
            process.stderr.write(
              `[${report.fedTokens} tokens read, ${report.reusedTokens} reused from the cache]\n`,
            );
          }
        }
      }
      if (interrupts.exitRequested) break;
      if (interactive) process.stdout.write('> ');
    }
  } finally {
    interrupts.dispose();
    lines.close();
  }
  return interrupts.exitRequested;
}

/**
 * Generates one reply, streaming it; Ctrl-C (`options.signal`) stops it at the next step. Either way
 * the conversation cache records what the model's cache now holds (the prompt and the reply so far).
 */
async function reply(
  model: CausalLM,
  ids: readonly number[],
  options: GenerateOptions,
  conversationCache: ConversationCache,
): Promise<{ generated: number[]; interrupted: boolean }> {
  const generated: number[] = [];
  let interrupted = false;
  try {
    for await (const step of generate(
      model,
      { inputIds: [ids], attentionMask: [ids.map(() => 1)] },
      options,
    )) {
      generated.push(...step.newTokens[0]!);
    }
  } catch (error) {
    if (!(error instanceof GenerationAbortedError)) throw error;
    interrupted = true;
  }
  conversationCache.record([...ids, ...generated]);
  return { generated, interrupted };
}
