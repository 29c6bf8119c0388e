import type { GenerationOptions } from '@tsformer/decoding';
import type { ChatMessage } from '@tsformer/models';
import { InvalidFieldError } from './errors.js';
import {
  asBody,
  type Body,
  optionalBoolean,
  optionalNumber,
  requiredString,
  stopSequences,
} from './field-readers.js';

/** The most choices (`n`) one request may ask for. */
export const MAX_CHOICES = 16;
/** OpenAI's limits on `stop` and on `top_logprobs`. */
const MAX_STOP_SEQUENCES = 4;
const MAX_TOP_LOGPROBS = 20;

/** A checked `/v1/chat/completions` or `/v1/completions` body. */
export interface CompletionRequest {
  readonly kind: 'chat' | 'text';
  readonly model: string;
  /** Chat: the conversation. */
  readonly messages?: readonly ChatMessage[];
  /** Completions: the prompt text. */
  readonly prompt?: string;
  readonly stream: boolean;
  /** `stream_options.include_usage`: a last chunk with the usage. */
  readonly includeUsage: boolean;
  readonly n: number;
  readonly maxTokens: number | undefined;
  readonly stop: readonly string[];
  /** Log-probabilities asked for: how many alternatives per token (0 for none); undefined: none at all. */
  readonly topLogprobs: number | undefined;
  readonly seed: number | undefined;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  /** The Hugging Face generation parameters (temperature, top_p and the extras such as top_k, num_beams). */
  readonly generation: GenerationOptions;
}

/** Reads a chat completions body; throws InvalidFieldError (400) naming the field. */
export function readChatRequest(value: unknown): CompletionRequest {
  const body = asBody(value);
  const topLogprobs = optionalNumber(body, 'top_logprobs', { min: 0, max: MAX_TOP_LOGPROBS, integer: true });
  const logprobs = optionalBoolean(body, 'logprobs') ?? false;
  if (topLogprobs !== undefined && !logprobs)
    throw new InvalidFieldError('top_logprobs', 'needs logprobs: true');
  return {
    kind: 'chat',
    messages: readMessages(body),
    ...commonFields(body),
    maxTokens:
      optionalNumber(body, 'max_completion_tokens', { min: 1, integer: true }) ??
      optionalNumber(body, 'max_tokens', { min: 1, integer: true }),
    topLogprobs: logprobs ? (topLogprobs ?? 0) : undefined,
  };
}

/** Reads a (legacy) completions body: `prompt` is one string. */
export function readTextRequest(value: unknown): CompletionRequest {
  const body = asBody(value);
  const prompt = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
  if (typeof prompt !== 'string')
    throw new InvalidFieldError('prompt', 'must be a string (one prompt per request)');
  return {
    kind: 'text',
    prompt,
    ...commonFields(body),
    maxTokens: optionalNumber(body, 'max_tokens', { min: 1, integer: true }),
    topLogprobs: optionalNumber(body, 'logprobs', { min: 0, max: 5, integer: true }),
  };
}

function readMessages(body: Body): ChatMessage[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidFieldError('messages', 'must be a non-empty list of {role, content}');
  }
  return messages.map((message, index) => {
    const field = `messages[${index}]`;
    if (typeof message !== 'object' || message === null)
      throw new InvalidFieldError(field, 'must be an object');
    const { role, content } = message as Record<string, unknown>;
    if (typeof role !== 'string') throw new InvalidFieldError(`${field}.role`, 'must be a string');
    return { role, content: messageText(content, `${field}.content`) };
  });
}

/** A message's content: a string, or OpenAI's list of `{type: "text", text}` parts joined. */
function messageText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, index) => {
        const { type, text } = (part ?? {}) as Record<string, unknown>;
        if (type !== 'text' || typeof text !== 'string') {
          throw new InvalidFieldError(`${field}[${index}]`, 'only {type: "text", text} parts are supported');
        }
        return text;
      })
      .join('');
  }
  throw new InvalidFieldError(field, 'must be a string or a list of text parts');
}

/** The fields both endpoints share. */
function commonFields(body: Body) {
  const streamOptions = body.stream_options;
  if (
    streamOptions !== undefined &&
    streamOptions !== null &&
    (typeof streamOptions !== 'object' || Array.isArray(streamOptions))
  ) {
    throw new InvalidFieldError('stream_options', 'must be an object');
  }
  return {
    model: requiredString(body, 'model'),
    stream: optionalBoolean(body, 'stream') ?? false,
    includeUsage: optionalBoolean((streamOptions ?? {}) as Body, 'include_usage') ?? false,
    n: optionalNumber(body, 'n', { min: 1, max: MAX_CHOICES, integer: true }) ?? 1,
    stop: stopSequences(body, 'stop', MAX_STOP_SEQUENCES),
    seed: optionalNumber(body, 'seed', { integer: true }),
    presencePenalty: optionalNumber(body, 'presence_penalty', { min: -2, max: 2 }) ?? 0,
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', { min: -2, max: 2 }) ?? 0,
    generation: generationOptions(body),
  };
}

/**
 * OpenAI's sampling fields and Hugging Face's extras as GenerationOptions. `temperature: 0` is greedy
 * search; a positive temperature, `top_p`, `top_k` or `min_p` turns sampling on; with none of them the
 * model's own generation_config decides (as Hugging Face's `generate`). `do_sample` wins when given.
 */
function generationOptions(body: Body): GenerationOptions {
  const temperature = optionalNumber(body, 'temperature', { min: 0, max: 2 });
  const topP = optionalNumber(body, 'top_p', { min: 0, max: 1 });
  const topK = optionalNumber(body, 'top_k', { min: 0, integer: true });
  const minP = optionalNumber(body, 'min_p', { min: 0, max: 1 });
  const samplingAsked =
    (temperature ?? 0) > 0 || topP !== undefined || topK !== undefined || minP !== undefined;
  const doSample =
    optionalBoolean(body, 'do_sample') ?? (temperature === 0 ? false : samplingAsked ? true : undefined);
  const options: GenerationOptions = {
    ...(doSample !== undefined && { doSample }),
    ...(temperature !== undefined && temperature > 0 && { temperature }),
    ...(topP !== undefined && { topP }),
    ...(topK !== undefined && { topK }),
    ...(minP !== undefined && { minP }),
    ...optionalEntry('repetitionPenalty', optionalNumber(body, 'repetition_penalty', { min: 0 })),
    ...optionalEntry('numBeams', optionalNumber(body, 'num_beams', { min: 1, integer: true })),
    ...optionalEntry('lengthPenalty', optionalNumber(body, 'length_penalty')),
    ...optionalEntry(
      'noRepeatNgramSize',
      optionalNumber(body, 'no_repeat_ngram_size', { min: 0, integer: true }),
    ),
    ...optionalEntry('minNewTokens', optionalNumber(body, 'min_tokens', { min: 0, integer: true })),
    ...optionalEntry('typicalP', optionalNumber(body, 'typical_p', { min: 0, max: 1 })),
  };
  return options;
}

function optionalEntry<K extends keyof GenerationOptions>(key: K, value: GenerationOptions[K] | undefined) {
  return value === undefined ? {} : { [key]: value };
}

/** Hugging Face's snake_case name of a GenerationOptions field (what the request body calls it). */
export function bodyFieldName(option: string): string {
  const renamed: Record<string, string> = {
    maxNewTokens: 'max_tokens',
    minNewTokens: 'min_tokens',
    stopStrings: 'stop',
    numReturnSequences: 'n',
  };
  return renamed[option] ?? option.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
