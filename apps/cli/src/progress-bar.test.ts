import { describe, expect, it } from 'vitest';
import { progressBar } from './progress-bar.js';

/** A stand-in for process.stderr that records what is written. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('progressBar', () => {
  it('redraws one line in place on a terminal and clears it when finished', () => {
    const { stream, writes } = fakeStream(true);
    const bar = progressBar('loading', stream);
    bar.update(1, 4);
    bar.update(1, 4); // unchanged: not redrawn
    bar.update(4, 4);
    bar.finish();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toBe(`\rloading [${'#'.repeat(7)}${'.'.repeat(21)}] 25%`);
    expect(writes[1]).toBe(`\rloading [${'#'.repeat(28)}] 100%`);
    expect(writes[2]).toMatch(/^\r +\r$/);
  });

  it('draws nothing when the stream is not a terminal (piped, redirected)', () => {
    const { stream, writes } = fakeStream(false);
    const bar = progressBar('loading', stream);
    bar.update(2, 4);
    bar.finish();
    expect(writes).toEqual([]);
  });
});
