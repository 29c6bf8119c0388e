import { describe, expect, it } from 'vitest';
import { StopTextFilter } from './stop-text.js';

/** Streams the pieces through a filter and joins what it emits. */
function stream(stops: string[], pieces: string[]): { text: string; stopped: boolean } {
  const filter = new StopTextFilter(stops);
  const text = pieces.map((piece) => filter.push(piece)).join('') + filter.end();
  return { text, stopped: filter.hasStopped };
}

describe('StopTextFilter', () => {
  it('cuts before the earliest stop sequence, even when it arrives split across pieces', () => {
    expect(stream(['END', '\n\n'], ['Hello wo', 'rld E', 'N', 'D and more'])).toEqual({
      text: 'Hello world ',
      stopped: true,
    });
    expect(stream(['xyz', 'b'], ['aab', 'xyz'])).toEqual({ text: 'aa', stopped: true });
  });

  it('emits everything, held-back tail included, when no stop sequence occurs', () => {
    expect(stream(['STOP'], ['a', 'bS', 'TO', 'x'])).toEqual({ text: 'abSTOx', stopped: false });
    expect(stream([], ['one ', 'two'])).toEqual({ text: 'one two', stopped: false });
  });
});
