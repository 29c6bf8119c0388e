// The vocabulary of the bad-input corpus: a case is a fixture folder with some of its files changed,
// a `tsformer` command to run on it, and what a correct run of that command does.

/** The commands a case can run; each reads the folder its own way. */
export type CorpusCommand = 'generate' | 'inspect --model' | 'inspect --config';

/** The bytes of a file as the generator builds them: text, bytes, or bytes in pieces (not joined). */
export type FileBytes = string | Uint8Array | readonly Uint8Array[];

/** What one file of the case folder becomes (a file not named keeps the fixture's own, linked). */
export type FileChange =
  /** A regular file with these contents (built when the case runs, not when it is listed). */
  | { readonly kind: 'contents'; readonly bytes: () => FileBytes | Promise<FileBytes> }
  /** No such file. */
  | { readonly kind: 'removed' }
  /** An empty directory where the file should be. */
  | { readonly kind: 'directory' }
  /** A named pipe (FIFO) that nobody writes to: reading it blocks until a writer comes. */
  | { readonly kind: 'fifo' }
  /** A symbolic link to a path that does not exist. */
  | { readonly kind: 'dangling-link' }
  /** A symbolic link to itself (ELOOP). */
  | { readonly kind: 'link-loop' }
  /** A symbolic link to something outside the folder (/dev/zero, /dev/null, a directory). */
  | { readonly kind: 'link'; readonly target: string };

/**
 * What a correct run does. `reject`: a non-zero exit with one error line, a TsformerError, naming every
 * entry of `names` (the file first, then the field or tensor). `accept`: exit 0 with the unchanged
 * folder's output (`baseline`) or with any output (`any`: the mutation makes a different but valid
 * model). `either`: one of the two, when both are defensible (an absent field whose default may fit).
 */
export type Expectation =
  | { readonly outcome: 'reject'; readonly names: readonly Naming[] }
  | { readonly outcome: 'accept'; readonly output: 'baseline' | 'any' }
  | { readonly outcome: 'either'; readonly names: readonly Naming[]; readonly output: 'baseline' | 'any' };

/** Something the error line must contain: a literal (a file, field or tensor name) or a pattern. */
export type Naming = string | RegExp;

export function reject(...names: Naming[]): Expectation {
  return { outcome: 'reject', names };
}

export function accept(output: 'baseline' | 'any' = 'baseline'): Expectation {
  return { outcome: 'accept', output };
}

export function either(output: 'baseline' | 'any', ...names: Naming[]): Expectation {
  return { outcome: 'either', names, output };
}

/** One change to a folder, before it is crossed with the commands that read what it changes. */
export interface Mutation {
  /** Readable and unique within its file: `header length bit 37 flipped`, `hidden_size = -1`. */
  readonly label: string;
  /** The files it changes, by name in the folder. */
  readonly changes: Readonly<Record<string, FileChange>>;
  /** What a correct run does; a function when the commands differ (inspect --config reads no weights). */
  readonly expect: Expectation | ((command: CorpusCommand) => Expectation);
  /** The commands to run it through (default: chosen by the corpus from the commands reading the file). */
  readonly commands?: readonly CorpusCommand[];
  /**
   * The commands judge it with different code (loading compares the weights with the model, `inspect
   * --model` only their names and shapes), so it runs through each command that reads the file.
   */
  readonly everyCommand?: boolean;
  /**
   * It exercises the file's reader (JSON parsing, the safetensors header), the same code whatever the
   * folder: only the `thorough` folder runs every such mutation, the others a seeded quarter of them.
   */
  readonly readerLevel?: boolean;
}

/** A mutation that changes one file. */
export function mutation(
  file: string,
  label: string,
  change: FileChange,
  expect: Mutation['expect'],
): Mutation {
  return { label, changes: { [file]: change }, expect };
}

/** `mutation`, marked to run through every command that reads the file. */
export function everyCommand(mutation: Mutation): Mutation {
  return { ...mutation, everyCommand: true };
}

/** `mutation`, marked as one of the reader's (sampled outside the thorough folder). */
export function readerLevel(mutation: Mutation): Mutation {
  return { ...mutation, readerLevel: true };
}

/** New contents for a file. */
export function contents(bytes: () => FileBytes | Promise<FileBytes>): FileChange {
  return { kind: 'contents', bytes };
}

/** One runnable case of the corpus. */
export interface CorpusCase {
  /** `<folder>/<file>: <mutation> · <command>`, unique in the corpus. */
  readonly name: string;
  /** The fixture folder it starts from (a name of `SOURCE_FOLDERS`). */
  readonly folder: string;
  readonly changes: Readonly<Record<string, FileChange>>;
  readonly command: CorpusCommand;
  readonly expect: Expectation;
  /** The group it is reported in: `safetensors: llama`, `config.json: gpt2`, ... */
  readonly group: string;
}
