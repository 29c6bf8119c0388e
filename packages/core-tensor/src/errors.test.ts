import { describe, expect, it, vi } from 'vitest';
import {
  BackendUnavailableError,
  FileAccessError,
  SafetensorsError,
  TsformerError,
  WeightLoadingError,
} from './errors.js';

/** A second copy of this module (a fresh module registry), as a second install of the package would load it. */
async function secondCopy(): Promise<typeof import('./errors.js')> {
  vi.resetModules();
  return import('./errors.js');
}

describe('TsformerError.isInstance', () => {
  it('recognises this copy’s errors by class, subclasses included', () => {
    const error = new SafetensorsError('w.safetensors', 'header is null');
    expect(TsformerError.isInstance(error)).toBe(true);
    expect(SafetensorsError.isInstance(error)).toBe(true);
    expect(FileAccessError.isInstance(error)).toBe(false);
    expect(WeightLoadingError.isInstance(new WeightLoadingError(['a'], [], [], 'x'))).toBe(true);
  });

  it('recognises the errors of another copy of the package, where instanceof fails', async () => {
    const other = await secondCopy();
    expect(other.TsformerError).not.toBe(TsformerError);
    const error = new other.FileAccessError('config.json', 'fifo');
    expect(error instanceof TsformerError).toBe(false);
    expect(TsformerError.isInstance(error)).toBe(true);
    expect(FileAccessError.isInstance(error)).toBe(true);
    expect(SafetensorsError.isInstance(error)).toBe(false);
    expect(other.TsformerError.isInstance(new BackendUnavailableError('no gpu'))).toBe(true);
    expect(other.BackendUnavailableError.isInstance(new BackendUnavailableError('no gpu'))).toBe(true);
  });

  it('recognises a class defined elsewhere that carries the marker, and a subclass of a subclass', () => {
    class ForeignSafetensorsError extends Error {
      [Symbol.for('tsformer.error')] = ['SafetensorsError', 'TsformerError'];
    }
    expect(SafetensorsError.isInstance(new ForeignSafetensorsError())).toBe(true);
    expect(TsformerError.isInstance(new ForeignSafetensorsError())).toBe(true);
    expect(FileAccessError.isInstance(new ForeignSafetensorsError())).toBe(false);

    class ShardError extends SafetensorsError {}
    const shardError = new ShardError('index.json', 'no weight_map');
    expect(ShardError.isInstance(shardError)).toBe(true);
    expect(SafetensorsError.isInstance(shardError)).toBe(true);
    expect(ShardError.isInstance(new SafetensorsError('a', 'b'))).toBe(false);
  });

  it('says no to everything else', () => {
    for (const value of [new Error('x'), new TypeError('x'), null, undefined, 'TsformerError', 3, {}]) {
      expect(TsformerError.isInstance(value)).toBe(false);
    }
    expect(TsformerError.isInstance({ [Symbol.for('tsformer.error')]: true })).toBe(false);
  });
});

describe('FileAccessError', () => {
  it('says in one line what the path is instead of what was needed', () => {
    expect(new FileAccessError('m/model.safetensors', 'directory').message).toBe(
      'm/model.safetensors is a directory, not a regular file',
    );
    expect(new FileAccessError('m/config.json', 'fifo').message).toBe(
      'm/config.json is a FIFO (named pipe), not a regular file',
    );
    expect(new FileAccessError('m', 'file', 'directory').message).toBe(
      'm is a regular file, not a directory',
    );
    expect(new FileAccessError('m/w', 'character device', 'file', '/dev/zero').message).toBe(
      'm/w is a symbolic link to /dev/zero, a character device, not a regular file',
    );
    expect(new FileAccessError('m/w', 'dangling symbolic link', 'file', 'gone').message).toBe(
      'm/w is a dangling symbolic link (to gone)',
    );
    expect(new FileAccessError('m/w', 'permission denied').message).toBe('m/w: permission denied');
  });
});
