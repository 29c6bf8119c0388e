import {
  type BatchRequestOptions,
  type BatchResult,
  BatchScheduler,
  type BatchSchedulerStats,
  type CausalLM,
  type FinishReason,
  type GeneratedToken,
  type GenerationOptions,
  generateAll,
  TextStreamer,
} from '@tsformer/decoding';
import { ChatTemplate, type PretrainedTokenizer } from '@tsformer/models';
import type { CompletionRequest } from './completion-request.js';
import { InvalidFieldError, OpenAIRequestError } from './errors.js';
import { PresenceFrequencyPenaltyProcessor } from './openai-penalties.js';
import { StopTextFilter } from './stop-text.js';

export interface ServedModelOptions {
  /** The name clients pass as `model` (and `/v1/models` lists). */
  readonly id: string;
  readonly model: CausalLM;
  readonly tokenizer: PretrainedTokenizer;
  /** A Jinja chat template that replaces the tokenizer's (for folders without one). */
  readonly chatTemplate?: string;
  /** Rows decoded together (default 8). */
  readonly maxBatch?: number;
  /** Requests waiting for a row before 429s (default 64). */
  readonly maxQueue?: number;
  /** Longest prompt accepted, in tokens (default: the model's positions, else 8192). */
  readonly maxPromptTokens?: number;
}

/** A token with its log-probability and the most likely alternatives, as text. */
export interface TokenLogprobText {
  readonly token: string;
  readonly logprob: number;
  readonly top: readonly { token: string; logprob: number }[];
}

export interface CompletionChoice {
  readonly index: number;
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly logprobs?: readonly TokenLogprobText[];
}

export interface Completion {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly choices: readonly CompletionChoice[];
}

/** What a streaming caller hears while a completion runs. */
export interface CompletionListener {
  /** Cancels every choice (client gone, deadline passed). */
  readonly signal?: AbortSignal;
  /** New text of choice `index` (stop sequences cut), with the log-probabilities of the tokens it came with. */
  readonly onDelta?: (index: number, text: string, logprobs: readonly TokenLogprobText[]) => void;
  /** The first generated token of the request (for time to first token). */
  readonly onFirstToken?: () => void;
  /** Each generated token of choice `index` (progress). */
  readonly onToken?: (index: number) => void;
}

const DEFAULT_MAX_PROMPT_TOKENS = 8192;

/**
 * One model as the OpenAI endpoints serve it: prompts through the tokenizer (and the chat template),
 * OpenAI's parameters onto Hugging Face generation, every choice a row of the model's continuous
 * batching scheduler (beam search, which needs its beams together, runs through `generate` instead),
 * text streamed as it decodes with stop sequences cut out, and real token counts.
 */
export class ServedModel {
  readonly id: string;
  readonly model: CausalLM;
  readonly tokenizer: PretrainedTokenizer;
  readonly created = Math.floor(Date.now() / 1000);
  private readonly scheduler: BatchScheduler;
  private readonly chatTemplate: ChatTemplate | undefined;
  private readonly maxPromptTokens: number;

  constructor(options: ServedModelOptions) {
    this.id = options.id;
    this.model = options.model;
    this.tokenizer = options.tokenizer;
    this.scheduler = new BatchScheduler(options.model, {
      maxBatch: options.maxBatch,
      maxQueue: options.maxQueue,
      tokenDecoder: options.tokenizer,
    });
    this.chatTemplate =
      options.chatTemplate === undefined
        ? undefined
        : new ChatTemplate(options.chatTemplate, options.tokenizer.specialTokens, 'the --chat-template file');
    this.maxPromptTokens =
      options.maxPromptTokens ?? options.model.positionLimit?.maxPositions ?? DEFAULT_MAX_PROMPT_TOKENS;
  }

  stats(): BatchSchedulerStats {
    return this.scheduler.stats();
  }

  /** Fails what is running or waiting and frees the batch's cache. */
  close(): Promise<void> {
    return this.scheduler.close();
  }

  /** Runs a completion request to its end (every choice), streaming through `listener`. */
  async complete(request: CompletionRequest, listener: CompletionListener = {}): Promise<Completion> {
    const prompt = this.promptIds(request);
    const generation = this.generationOptions(request, prompt.length);
    const results =
      (generation.numBeams ?? 1) > 1
        ? await this.beamSearch(request, prompt, generation, listener)
        : await this.batchedChoices(request, prompt, generation, listener);
    return {
      promptTokens: prompt.length,
      completionTokens: results.reduce((total, result) => total + result.generated.length, 0),
      choices: results.map((result, index) => this.choice(request, index, result)),
    };
  }

  private promptIds(request: CompletionRequest): number[] {
    const { tokenizer } = this;
    const field = request.kind === 'chat' ? 'messages' : 'prompt';
    let ids: number[];
    if (request.kind === 'text') ids = tokenizer.encode(request.prompt!);
    else if (this.chatTemplate) {
      const text = this.chatTemplate.render(request.messages!, { addGenerationPrompt: true });
      ids = tokenizer.encode(text, { addSpecialTokens: false });
    } else if (tokenizer.hasChatTemplate)
      ids = tokenizer.encodeChat(request.messages!, { addGenerationPrompt: true });
    else
      throw new InvalidFieldError(
        'messages',
        `the model '${this.id}' has no chat template: use /v1/completions`,
      );
    if (ids.length === 0) throw new InvalidFieldError(field, 'the prompt has no tokens');
    if (ids.length > this.maxPromptTokens) {
      throw new OpenAIRequestError(
        400,
        `${field}: the prompt is ${ids.length} tokens, more than the ${this.maxPromptTokens} this server accepts`,
        field,
        'invalid_request_error',
        'context_length_exceeded',
      );
    }
    return ids;
  }

  private generationOptions(
    request: CompletionRequest,
    promptLength: number,
  ): GenerationOptions & BatchRequestOptions {
    const { presencePenalty, frequencyPenalty } = request;
    const penalties =
      presencePenalty !== 0 || frequencyPenalty !== 0
        ? [new PresenceFrequencyPenaltyProcessor(promptLength, presencePenalty, frequencyPenalty)]
        : [];
    return {
      ...request.generation,
      // The batch's cache grows row by row (a model's static cache_implementation does not apply).
      cacheImplementation: 'dynamic',
      ...(request.maxTokens !== undefined && { maxNewTokens: request.maxTokens }),
      ...(request.stop.length > 0 && { stopStrings: request.stop }),
      logitsProcessors: penalties,
    };
  }

  /** Each choice a row of the scheduler (seeds `seed`, `seed + 1`, …), all cancelled together. */
  private async batchedChoices(
    request: CompletionRequest,
    prompt: number[],
    generation: BatchRequestOptions,
    listener: CompletionListener,
  ): Promise<BatchResult[]> {
    const cancel = new AbortController();
    const stopAll = () => cancel.abort(listener.signal?.reason);
    listener.signal?.addEventListener('abort', stopAll, { once: true });
    if (listener.signal?.aborted) stopAll();
    let firstToken = listener.onFirstToken;
    const streams = Array.from({ length: request.n }, (_, index) =>
      this.choiceStream(request, index, listener),
    );
    try {
      const runs = streams.map((stream, index) =>
        this.scheduler.submit(prompt, {
          ...generation,
          ...(request.seed !== undefined && { seed: request.seed + index }),
          ...(request.topLogprobs !== undefined && { topLogprobs: request.topLogprobs }),
          signal: cancel.signal,
          onToken: (token) => {
            firstToken?.();
            firstToken = undefined;
            listener.onToken?.(index);
            stream.put(token);
          },
        }),
      );
      const settled = await Promise.allSettled(runs);
      const failed = settled.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        cancel.abort();
        throw (failed as PromiseRejectedResult).reason;
      }
      streams.forEach((stream) => {
        stream.end();
      });
      return settled.map((outcome) => (outcome as PromiseFulfilledResult<BatchResult>).value);
    } finally {
      listener.signal?.removeEventListener('abort', stopAll);
    }
  }

  /** Beam search through `generate` (its beams share one search); `n` returned sequences. Not streamed. */
  private async beamSearch(
    request: CompletionRequest,
    prompt: number[],
    generation: GenerationOptions & BatchRequestOptions,
    listener: CompletionListener,
  ): Promise<BatchResult[]> {
    if (request.stream) throw new InvalidFieldError('stream', 'beam search (num_beams > 1) cannot stream');
    if (request.topLogprobs !== undefined)
      throw new InvalidFieldError('logprobs', 'is not available with num_beams > 1');
    const { logitsProcessors, ...options } = generation;
    const output = await generateAll(
      this.model,
      { inputIds: [prompt] },
      {
        ...options,
        logitsProcessors,
        numReturnSequences: request.n,
        tokenDecoder: this.tokenizer,
        signal: listener.signal,
      },
    );
    listener.onFirstToken?.();
    const eos = new Set([this.model.generationConfig?.eosTokenId ?? []].flat());
    return output.sequences.map((sequence) => {
      const generated = sequence.slice(prompt.length);
      const end = generated.findIndex((id) => eos.has(id));
      const kept = end >= 0 ? generated.slice(0, end + 1) : generated;
      return {
        sequence: [...prompt, ...kept],
        generated: kept.map((id) => ({ id })),
        promptLength: prompt.length,
        finishReason: end >= 0 ? 'stop' : 'length',
      };
    });
  }

  /** Turns a choice's tokens into streamed text (decoded cleanly, stop sequences cut). */
  private choiceStream(request: CompletionRequest, index: number, listener: CompletionListener) {
    const stop = new StopTextFilter(request.stop);
    let tokens: TokenLogprobText[] = [];
    const emit = (text: string) => {
      const piece = stop.push(text);
      if (piece !== '' || tokens.length > 0) listener.onDelta?.(index, piece, tokens);
      tokens = [];
    };
    const streamer = new TextStreamer(this.tokenizer, emit, true);
    return {
      put: (token: GeneratedToken) => {
        if (request.topLogprobs !== undefined) tokens.push(this.logprobText(token));
        streamer.put(0, [token.id]);
      },
      end: () => {
        streamer.end();
        const rest = stop.end();
        if (rest !== '' || tokens.length > 0) listener.onDelta?.(index, rest, tokens);
      },
    };
  }

  private choice(request: CompletionRequest, index: number, result: BatchResult): CompletionChoice {
    const { tokenizer } = this;
    const ids = result.generated.map((token) => token.id);
    const full = tokenizer.decode(ids, { skipSpecialTokens: true });
    const stop = new StopTextFilter(request.stop);
    const text = stop.push(full) + stop.end();
    return {
      index,
      text,
      finishReason: stop.hasStopped ? 'stop' : result.finishReason,
      ...(request.topLogprobs !== undefined && {
        logprobs: result.generated.map((token) => this.logprobText(token)),
      }),
    };
  }

  private logprobText(token: GeneratedToken): TokenLogprobText {
    const decode = (id: number) => this.tokenizer.decode([id]);
    return {
      token: decode(token.id),
      logprob: token.logprob ?? 0,
      top: (token.topLogprobs ?? []).map((entry) => ({ token: decode(entry.id), logprob: entry.logprob })),
    };
  }
}
