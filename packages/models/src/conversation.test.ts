import { describe, expect, it } from 'vitest';
import type { ChatMessage } from './chat-template.js';
import { Conversation, plainConversation } from './conversation.js';

/** One "token" per character of the plain text, so that lengths are easy to follow. */
const characters = (messages: readonly ChatMessage[]) => [...plainConversation(messages)].map(() => 0);

describe('Conversation', () => {
  it('drops the oldest turns, never the opening, until the conversation and the reply fit', () => {
    const rendered: string[] = [];
    const conversation = new Conversation([{ role: 'system', content: 'S' }], (messages) => {
      rendered.push(plainConversation(messages));
      return characters(messages);
    });
    const lengthOf = (turn: ReturnType<Conversation['ask']>) =>
      'ids' in turn ? [turn.ids.length, turn.droppedTurns] : turn;
    expect(lengthOf(conversation.ask('aaaa', 20, 5))).toEqual([6, 0]); // "S\naaaa"
    conversation.answer('1111');
    expect(lengthOf(conversation.ask('bbbb', 20, 5))).toEqual([15, 0]); // 15 + 5 fits 20 exactly
    conversation.answer('2222');
    expect(lengthOf(conversation.ask('cccc', 20, 5))).toEqual([15, 1]);
    expect(rendered.at(-1)).toBe('S\nbbbb2222\ncccc');
    conversation.answer('3333');
    expect(lengthOf(conversation.ask('dddddddddd', 20, 5))).toEqual([12, 2]);
    expect(rendered.at(-1)).toBe('S\ndddddddddd');
  });

  it('leaves the conversation as it was when a message does not fit alone, saying how long it was', () => {
    const conversation = new Conversation([], characters);
    conversation.ask('ab', 10, 3);
    conversation.answer('cd');
    expect(conversation.ask('a much longer message', 10, 3)).toEqual({ promptTokens: 21 });
    // The earlier turn is still there: "abcd\nef".
    expect(conversation.ask('ef', 10, 3)).toEqual({ ids: Array(7).fill(0), droppedTurns: 0 });
  });

  it('keeps a reply cut short, even an empty one, and starts over on reset', () => {
    const seen: string[] = [];
    const conversation = new Conversation([], (messages) => {
      seen.push(plainConversation(messages));
      return characters(messages);
    });
    conversation.ask('ab', 100, 1);
    conversation.answer('');
    conversation.ask('cd', 100, 1);
    expect(seen.at(-1)).toBe('ab\ncd');
    conversation.reset();
    conversation.ask('ef', 100, 1);
    expect(seen.at(-1)).toBe('ef');
  });
});
