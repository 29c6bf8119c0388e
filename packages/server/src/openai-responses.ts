import { randomUUID } from 'node:crypto';
import type { CompletionRequest } from './completion-request.js';
import type { Completion, CompletionChoice, TokenLogprobText } from './served-model.js';

/** The JSON objects of OpenAI's API, built from a completion. */
export interface ResponseIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function responseIdentity(request: CompletionRequest): ResponseIdentity {
  const prefix = request.kind === 'chat' ? 'chatcmpl' : 'cmpl';
  return { id: `${prefix}-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: request.model };
}

export function usage(completion: Pick<Completion, 'promptTokens' | 'completionTokens'>) {
  return {
    prompt_tokens: completion.promptTokens,
    completion_tokens: completion.completionTokens,
    total_tokens: completion.promptTokens + completion.completionTokens,
  };
}

/** A whole (non-streamed) response. */
export function completionResponse(
  request: CompletionRequest,
  identity: ResponseIdentity,
  completion: Completion,
) {
  const chat = request.kind === 'chat';
  return {
    ...identity,
    object: chat ? 'chat.completion' : 'text_completion',
    choices: completion.choices.map((choice) =>
      chat
        ? {
            index: choice.index,
            message: { role: 'assistant', content: choice.text, refusal: null },
            logprobs: choice.logprobs ? chatLogprobs(choice.logprobs) : null,
            finish_reason: choice.finishReason,
          }
        : {
            index: choice.index,
            text: choice.text,
            logprobs: choice.logprobs ? textLogprobs(choice.logprobs) : null,
            finish_reason: choice.finishReason,
          },
    ),
    usage: usage(completion),
  };
}

/** One streamed chunk: a choice's new text (`first` also carries the assistant role), or its end. */
export function chunk(
  request: CompletionRequest,
  identity: ResponseIdentity,
  index: number,
  piece: {
    text?: string;
    first?: boolean;
    logprobs?: readonly TokenLogprobText[];
    finish?: CompletionChoice['finishReason'];
  },
) {
  const logprobs = piece.logprobs && piece.logprobs.length > 0 ? piece.logprobs : undefined;
  const finishReason = piece.finish ?? null;
  if (request.kind === 'chat') {
    const delta = {
      ...(piece.first && { role: 'assistant' }),
      ...(piece.text !== undefined && { content: piece.text }),
    };
    return {
      ...identity,
      object: 'chat.completion.chunk',
      choices: [
        { index, delta, logprobs: logprobs ? chatLogprobs(logprobs) : null, finish_reason: finishReason },
      ],
    };
  }
  return {
    ...identity,
    object: 'text_completion',
    choices: [
      {
        index,
        text: piece.text ?? '',
        logprobs: logprobs ? textLogprobs(logprobs) : null,
        finish_reason: finishReason,
      },
    ],
  };
}

/** The last chunk of a stream asked to include usage: no choices, the usage. */
export function usageChunk(request: CompletionRequest, identity: ResponseIdentity, completion: Completion) {
  return {
    ...identity,
    object: request.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    choices: [],
    usage: usage(completion),
  };
}

const encoder = new TextEncoder();

/** Chat's `logprobs: {content: [{token, logprob, bytes, top_logprobs}]}`. */
function chatLogprobs(tokens: readonly TokenLogprobText[]) {
  return {
    content: tokens.map((token) => ({
      token: token.token,
      logprob: token.logprob,
      bytes: Array.from(encoder.encode(token.token)),
      top_logprobs: token.top.map((entry) => ({
        token: entry.token,
        logprob: entry.logprob,
        bytes: Array.from(encoder.encode(entry.token)),
      })),
    })),
    refusal: null,
  };
}

/** Completions' `logprobs: {tokens, token_logprobs, top_logprobs, text_offset}`. */
function textLogprobs(tokens: readonly TokenLogprobText[]) {
  let offset = 0;
  const textOffset = tokens.map((token) => {
    const start = offset;
    offset += token.token.length;
    return start;
  });
  return {
    tokens: tokens.map((token) => token.token),
    token_logprobs: tokens.map((token) => token.logprob),
    top_logprobs: tokens.map((token) =>
      Object.fromEntries(token.top.map((entry) => [entry.token, entry.logprob])),
    ),
    text_offset: textOffset,
  };
}
