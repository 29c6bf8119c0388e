import type { ChatMessage } from './chat-template.js';

/** Turns messages into the ids the model reads (a chat template, or plain concatenation). */
export type RenderConversation = (messages: readonly ChatMessage[]) => number[];

/** A turn ready to be answered: the ids of the whole conversation, and how many old turns were dropped. */
export interface PreparedTurn {
  ids: number[];
  droppedTurns: number;
}

/** A message that does not fit even alone (after the opening messages): how long it made the prompt. */
export interface TooLong {
  promptTokens: number;
}

interface Turn {
  user: string;
  reply?: string;
}

/**
 * A chat's messages: the opening (system) messages, then turns of a user message and its reply. The
 * context-limit policy of `tsformer chat` lives here: before a turn, the oldest turns are dropped
 * while the conversation plus the longest reply would not fit the context.
 */
export class Conversation {
  private turns: Turn[] = [];

  constructor(
    private readonly opening: readonly ChatMessage[],
    private readonly render: RenderConversation,
  ) {}

  /** Starts over (the opening messages stay). */
  reset(): void {
    this.turns = [];
  }

  /**
   * Adds the user's `text` and renders the conversation, dropping the oldest turns until it plus
   * `replyTokens` fits `contextTokens`. When even the message alone does not fit, the conversation
   * stays as it was and TooLong says how long the message made the prompt.
   */
  ask(text: string, contextTokens: number, replyTokens: number): PreparedTurn | TooLong {
    const turns = [...this.turns, { user: text }];
    let promptTokens = 0;
    for (let droppedTurns = 0; droppedTurns < turns.length; droppedTurns++) {
      const ids = this.render(this.messages(turns.slice(droppedTurns)));
      if (ids.length + replyTokens <= contextTokens) {
        this.turns = turns.slice(droppedTurns);
        return { ids, droppedTurns };
      }
      promptTokens = ids.length;
    }
    return { promptTokens };
  }

  /** Records the reply to the last message (possibly cut short). */
  answer(reply: string): void {
    this.turns.at(-1)!.reply = reply;
  }

  private messages(turns: readonly Turn[]): ChatMessage[] {
    return [
      ...this.opening,
      ...turns.flatMap(({ user, reply }): ChatMessage[] => [
        { role: 'user', content: user },
        ...(reply === undefined ? [] : [{ role: 'assistant', content: reply }]),
      ]),
    ];
  }
}

/**
 * A conversation without a chat template, as plain text: each reply continues the user's text it
 * answers, and each user turn after the first starts a new line.
 */
export function plainConversation(messages: readonly ChatMessage[]): string {
  return messages
    .map((message, index) =>
      message.role === 'user' && index > 0 ? `\n${message.content}` : message.content,
    )
    .join('');
}
