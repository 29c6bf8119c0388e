import { TsformerError } from './errors.js';

/**
 * Runs `read`, which interprets what was read from `file` (a config.json resolved by its family, a
 * generation_config.json parsed), so that a `TsformerError` it throws names the file: the message
 * becomes `<file>: <message>` and `error.file` is set, the error keeping its class and fields.
 * Interpreters stay free of paths (`resolveLlamaConfig(raw)` reads as before when no file is
 * involved) and the file enters in one place, where it is read. An error that already names a file
 * through this helper is left as it is; anything that is not a TsformerError passes unchanged.
 */
export function withFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw attributeToFile(error, file);
  }
}

function attributeToFile(error: unknown, file: string): unknown {
  if (!TsformerError.isInstance(error) || error.file !== undefined) return error;
  Object.defineProperty(error, 'file', { value: file, enumerable: true });
  error.message = `${file}: ${error.message}`;
  return error;
}
