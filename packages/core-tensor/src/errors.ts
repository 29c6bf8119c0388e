/**
 * The property every TsformerError carries: the names of its error classes, most specific first
 * (`['SafetensorsError', 'TsformerError']`). `Symbol.for` makes it the same symbol in every copy
 * of this package loaded into one process, so `isInstance` works where `instanceof` cannot.
 */
const ERROR_CLASSES = Symbol.for('tsformer.error');

/** Base class of every error tsformer throws on purpose: catch this to tell bad input from bugs. */
export class TsformerError extends Error {
  override name = 'TsformerError';
  declare readonly [ERROR_CLASSES]: readonly string[];
  /**
   * The file whose contents the error is about, when it was added by `withFile` (which also names it
   * at the start of the message); errors that name their file themselves keep their own fields.
   */
  declare readonly file?: string;

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, ERROR_CLASSES, { value: errorClassNames(new.target) });
  }

  /**
   * Whether `value` is an error of this class (`SafetensorsError.isInstance(e)`), also when it was
   * thrown by another copy of tsformer (two versions in node_modules, an ES module and a CommonJS
   * bundle), where `instanceof` says no. Copies recognise each other's classes by class name, so a
   * bundle that renames classes when minifying needs its bundler's "keep names" option for this.
   */
  static isInstance<T>(this: ErrorClass<T>, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class it is called on, a subclass too.
    return isErrorOfClass(value, this);
  }
}

type ErrorClass<T> = abstract new (...args: never[]) => T;

function isErrorOfClass<T>(value: unknown, errorClass: ErrorClass<T>): value is T {
  if (value instanceof errorClass) return true;
  if (typeof value !== 'object' || value === null) return false;
  const names = (value as { [ERROR_CLASSES]?: unknown })[ERROR_CLASSES];
  return Array.isArray(names) && names.includes(errorClass.name);
}

/** The names of `leaf` and the classes it extends, up to and including TsformerError. */
function errorClassNames(leaf: ErrorClass<unknown>): string[] {
  const names: string[] = [];
  for (let current: unknown = leaf; current !== Error && typeof current === 'function'; ) {
    names.push(current.name);
    current = Object.getPrototypeOf(current);
  }
  return names;
}

/** A backend was asked for that cannot run here (package absent, no GPU adapter, ...). */
export class BackendUnavailableError extends TsformerError {
  override name = 'BackendUnavailableError';
}

/**
 * A safetensors file, folder or shard index that cannot be read or written as asked: the message
 * names the file (`location`) and, where one is to blame, the tensor.
 */
export class SafetensorsError extends TsformerError {
  override name = 'SafetensorsError';

  constructor(
    readonly location: string,
    detail: string,
    readonly tensorName?: string,
  ) {
    super(`${location}: ${tensorName === undefined ? '' : `tensor "${tensorName}": `}${detail}`);
  }
}

/** What a path turned out to be, when it was to be read as a file or a directory. */
export type PathKind =
  | 'file'
  | 'directory'
  | 'missing'
  | 'fifo'
  | 'socket'
  | 'character device'
  | 'block device'
  | 'dangling symbolic link'
  | 'symbolic link loop'
  | 'permission denied'
  | 'unreadable';

const PATH_KIND_NOUNS: Partial<Record<PathKind, string>> = {
  file: 'a regular file',
  directory: 'a directory',
  fifo: 'a FIFO (named pipe)',
  socket: 'a socket',
  'character device': 'a character device',
  'block device': 'a block device',
};

/**
 * A path that cannot be read as the file (or directory) it should be: missing, a directory, a FIFO
 * or device (reading would hang or never end), a dangling or looping symbolic link, or not readable.
 * The message says which, naming the path as it was given.
 */
export class FileAccessError extends TsformerError {
  override name = 'FileAccessError';

  constructor(
    readonly path: string,
    /** What is there instead. */
    readonly found: PathKind,
    /** What was needed. */
    readonly expected: 'file' | 'directory' = 'file',
    /** Where a symbolic link points (for links to something unusable), or the system's error code. */
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(describePath(path, found, expected, detail), options);
  }
}

function describePath(
  path: string,
  found: PathKind,
  expected: 'file' | 'directory',
  detail?: string,
): string {
  switch (found) {
    case 'missing':
      return `${path} does not exist`;
    case 'dangling symbolic link':
      return `${path} is a dangling symbolic link (to ${detail})`;
    case 'symbolic link loop':
      return `${path} is a symbolic link loop`;
    case 'permission denied':
      return `${path}: permission denied`;
    case 'unreadable':
      return `${path} cannot be read (${detail})`;
    default: {
      const link = detail === undefined ? '' : `a symbolic link to ${detail}, `;
      return `${path} is ${link}${PATH_KIND_NOUNS[found]}, not ${PATH_KIND_NOUNS[expected]}`;
    }
  }
}

/** Weights that do not fit a module: every missing, unexpected and mis-shaped tensor, by name. */
export class WeightLoadingError extends TsformerError {
  override name = 'WeightLoadingError';
  constructor(
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misShaped: readonly { name: string; expected: readonly number[]; actual: readonly number[] }[],
    where: string,
  ) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.length}: ${listNames(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length}: ${listNames(unexpected)}`);
    if (misShaped.length > 0) {
      const shapes = misShaped.map((m) => `${m.name} is [${m.actual}] but the model needs [${m.expected}]`);
      parts.push(`mis-shaped ${misShaped.length}: ${listNames(shapes)}`);
    }
    super(`weights in ${where} do not fit the model: ${parts.join('; ')}`);
  }
}

function listNames(names: readonly string[], limit = 12): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown}, … (${names.length - limit} more)` : shown;
}

/**
 * A config field whose value cannot be used. The message is one line naming the source and the field:
 * `llama config: num_hidden_layers must be a positive integer up to 1024, got 10000000`.
 */
export class ConfigFieldError extends TsformerError {
  override name = 'ConfigFieldError';
  constructor(
    /** What was read: `llama config`, `generation_config.json`. */
    readonly source: string,
    /** The field at fault, dotted inside nested objects (`rope_scaling.factor`). */
    readonly field: string,
    problem: string,
  ) {
    super(`${source}: ${field} ${problem}`);
  }
}
