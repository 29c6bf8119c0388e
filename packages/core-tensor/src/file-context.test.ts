import { describe, expect, it } from 'vitest';
import { ConfigFields } from './config-fields.js';
import { ConfigFieldError, TsformerError } from './errors.js';
import { withFile } from './file-context.js';

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('withFile', () => {
  it('returns what the reader returns', () => {
    expect(withFile('m/config.json', () => 42)).toBe(42);
  });

  it('names the file first in a TsformerError, keeping its class and fields', () => {
    const error = thrownBy(() =>
      withFile('m/config.json', () =>
        new ConfigFields({ hidden_size: 0 }, 'llama config').size('hidden_size', 'width', 64),
      ),
    );
    expect(error).toBeInstanceOf(ConfigFieldError);
    expect(error).toMatchObject({
      message: 'm/config.json: llama config: hidden_size must be a positive integer up to 131072, got 0',
      file: 'm/config.json',
      source: 'llama config',
      field: 'hidden_size',
    });
  });

  it('names only the innermost file when readers nest', () => {
    const error = thrownBy(() =>
      withFile('outer.json', () =>
        withFile('inner.json', () => {
          throw new TsformerError('bad');
        }),
      ),
    );
    expect(error).toMatchObject({ message: 'inner.json: bad', file: 'inner.json' });
  });

  it('leaves errors that are not TsformerErrors as they are', () => {
    const bug = new TypeError('x is undefined');
    expect(
      thrownBy(() =>
        withFile('f.json', () => {
          throw bug;
        }),
      ),
    ).toBe(bug);
    expect(bug.message).toBe('x is undefined');
  });
});
