import { describe, expect, it } from 'vitest';
import { ByteDecoder } from '../test/toy-models.js';
import { TextStreamer } from './text-streamer.js';

// Tokens of single UTF-8 bytes, so multi-byte characters arrive in pieces: 'é' is C3 A9, '€' is E2 82 AC.
const BYTES = [[0x61], [0x20], [0xc3], [0xa9], [0xe2], [0x82], [0xac], [0x62], []];
const EOS = 8;
const decoder = new ByteDecoder(BYTES, [EOS]);

function stream(tokens: number[], perPut = 1): string[] {
  const chunks: string[] = [];
  const streamer = new TextStreamer(decoder, (text) => chunks.push(text));
  for (let i = 0; i < tokens.length; i += perPut) streamer.put(0, tokens.slice(i, i + perPut));
  streamer.end();
  return chunks;
}

describe('TextStreamer', () => {
  it('never emits half of a multi-byte character, and the chunks join to the final text', () => {
    const tokens = [0, 2, 3, 1, 4, 5, 6, 7, 4, 5, 6, 2, 3, EOS];
    const chunks = stream(tokens);
    expect(chunks.join('')).toBe('aé €b€é');
    expect(chunks.some((chunk) => chunk.includes('\uFFFD'))).toBe(false);
    expect(chunks).toEqual(['a', 'é', ' ', '€', 'b', '€', 'é']);
  });

  it('flushes an unfinished character at the end', () => {
    expect(stream([0, 4, 5]).join('')).toBe(decoder.decode([0, 4, 5]));
    expect(stream([0, 4, 5]).at(-1)!.endsWith('\uFFFD')).toBe(true);
  });

  it('keeps one stream per row and can keep special tokens', () => {
    const chunks: [string, number][] = [];
    const streamer = new TextStreamer(decoder, (text, row) => chunks.push([text, row]), false);
    streamer.put(1, [7]);
    streamer.put(0, [0]);
    streamer.put(1, [EOS]);
    streamer.end();
    expect(chunks).toEqual([
      ['b', 1],
      ['a', 0],
    ]);
  });
});
