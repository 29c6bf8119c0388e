import {
  Conversation,
  ConversationCache,
  type Pretrained,
  type PretrainedCausalLM,
  type PretrainedTokenizer,
  plainConversation,
} from '@tsformer/models';
import type { GenerationRequest } from './generation-form.js';
import { type RunCallbacks, runGeneration } from './run-generation.js';

/** Positions a chat may use when the model sets no limit. */
const UNBOUNDED_CONTEXT = 2048;

/**
 * A chat with a decoder-only model, as `tsformer chat` holds one: the conversation rendered through
 * the model's chat template (plain text without one), the KV cache kept across turns so that each
 * turn reads only what the cache does not hold yet, the oldest turns dropped when the context is full.
 */
export class ChatSession {
  private readonly conversation: Conversation;
  private readonly conversationCache: ConversationCache;
  private readonly contextTokens: number;

  constructor(
    private readonly pretrained: Pretrained,
    private readonly tokenizer: PretrainedTokenizer,
  ) {
    const model = pretrained.model as PretrainedCausalLM;
    this.contextTokens =
      model.positionLimit?.maxPositions ??
      pretrained.family.describe(pretrained.config).maxPositions ??
      UNBOUNDED_CONTEXT;
    this.conversation = new Conversation([], (messages) =>
      tokenizer.hasChatTemplate
        ? tokenizer.encodeChat(messages, { addGenerationPrompt: true })
        : tokenizer.encode(plainConversation(messages)),
    );
    this.conversationCache = new ConversationCache(model.createCache(1, this.contextTokens));
  }

  /** Answers `text`; returns the reply and how many tokens were read and reused from the cache. */
  async say(
    text: string,
    request: GenerationRequest,
    callbacks: RunCallbacks,
  ): Promise<{ reply: string; fedTokens: number; reusedTokens: number; droppedTurns: number }> {
    const replyTokens = request.options.maxNewTokens ?? 64;
    const prepared = this.conversation.ask(text, this.contextTokens, replyTokens);
    if ('promptTokens' in prepared) {
      throw new Error(
        `this message makes a prompt of ${prepared.promptTokens} tokens, which with a reply of up to ${replyTokens} does not fit the context of ${this.contextTokens}`,
      );
    }
    const reusedTokens = this.conversationCache.prepare(prepared.ids);
    const run = await runGeneration(this.pretrained, this.tokenizer, prepared.ids, request, {
      ...callbacks,
      cache: this.conversationCache.cache,
    });
    this.conversationCache.record(run.sequences[0]!);
    const reply = run.texts[0]!;
    this.conversation.answer(reply);
    return {
      reply,
      fedTokens: prepared.ids.length - reusedTokens,
      reusedTokens,
      droppedTurns: prepared.droppedTurns,
    };
  }

  dispose(): void {
    this.conversationCache.cache.dispose();
  }
}
