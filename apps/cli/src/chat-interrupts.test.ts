import { EventEmitter } from 'node:events';
import type { Interface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatInterrupts } from './chat-interrupts.js';

/** A line reader's stand-in: emits 'SIGINT' as a terminal's readline does, records close(). */
class FakeLines extends EventEmitter {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

let interrupts: ChatInterrupts | undefined;
afterEach(() => interrupts?.dispose());

function start(): { lines: FakeLines; interrupts: ChatInterrupts } {
  const lines = new FakeLines();
  interrupts = new ChatInterrupts(lines as unknown as Interface);
  return { lines, interrupts };
}

describe('ChatInterrupts', () => {
  it('aborts a running reply on the first Ctrl-C and ends the chat on a second one before it stopped', () => {
    const { lines, interrupts } = start();
    const signal = interrupts.startReply();
    lines.emit('SIGINT');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('Ctrl-C');
    expect([interrupts.exitRequested, lines.closed]).toEqual([false, false]);
    process.emit('SIGINT', 'SIGINT');
    expect([interrupts.exitRequested, lines.closed]).toEqual([true, true]);
  });

  it('ends the chat on Ctrl-C at the prompt, the previous reply over', () => {
    const { lines, interrupts } = start();
    interrupts.startReply();
    interrupts.endReply();
    process.emit('SIGINT', 'SIGINT');
    expect([interrupts.exitRequested, lines.closed]).toEqual([true, true]);
  });

  it('hands SIGINT back when disposed', () => {
    const before = process.listenerCount('SIGINT');
    const { lines, interrupts } = start();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    interrupts.dispose();
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(lines.listenerCount('SIGINT')).toBe(0);
  });
});
