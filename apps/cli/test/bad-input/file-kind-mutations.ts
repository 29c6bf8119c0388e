// Mutations of what a file is rather than what it holds: a directory, a FIFO nobody writes to, a
// dangling link, a link loop, a link to /dev/zero or /dev/null, an empty file, no file at all. The
// error says what the path is; a FIFO or /dev/zero never hangs the command.
import {
  accept,
  contents,
  type Expectation,
  either,
  everyCommand,
  type FileChange,
  type Mutation,
  mutation,
  type Naming,
  reject,
} from './corpus-case.js';

/** Files a folder may leave out: without them the command still runs. */
const OPTIONAL_FILES = new Set(['generation_config.json', 'tokenizer_config.json']);

const NOT_A_FILE = 'not a (regular )?file';

/** Each kind of path, with words an error about it uses. */
const KINDS: readonly { label: string; change: FileChange; says: RegExp }[] = [
  {
    label: 'a directory',
    change: { kind: 'directory' },
    says: new RegExp(`director|folder|${NOT_A_FILE}`, 'i'),
  },
  {
    label: 'a FIFO nobody writes to',
    change: { kind: 'fifo' },
    says: new RegExp(`fifo|pipe|${NOT_A_FILE}`, 'i'),
  },
  {
    label: 'a dangling symbolic link',
    change: { kind: 'dangling-link' },
    says: /link|does not exist|missing|no such|not found/i,
  },
  { label: 'a symbolic link to itself', change: { kind: 'link-loop' }, says: /link|loop/i },
  {
    label: 'a link to /dev/zero',
    change: { kind: 'link', target: '/dev/zero' },
    says: new RegExp(`device|${NOT_A_FILE}`, 'i'),
  },
  {
    label: 'a link to /dev/null',
    change: { kind: 'link', target: '/dev/null' },
    says: new RegExp(`device|empty|${NOT_A_FILE}`, 'i'),
  },
  {
    label: 'a link to the root directory',
    change: { kind: 'link', target: '/' },
    says: new RegExp(`director|folder|${NOT_A_FILE}`, 'i'),
  },
];

/** Every kind of path in place of `file`, and the file left empty or removed. */
export function fileKindMutations(file: string): Mutation[] {
  const optional = OPTIONAL_FILES.has(file);
  const named = (says: Naming): Expectation => reject(file, says);
  const mutations = KINDS.map(({ label, change, says }) =>
    mutation(
      file,
      `is ${label}`,
      change,
      // An optional file behind a dangling link reads as absent, as Python's os.path.isfile says.
      optional && change.kind === 'dangling-link' ? either('baseline', file, says) : named(says),
    ),
  );
  mutations.push(
    mutation(
      file,
      'is an empty file',
      contents(() => ''),
      reject(file),
    ),
  );
  mutations.push(
    mutation(
      file,
      'is missing',
      { kind: 'removed' },
      optional
        ? accept()
        : // A folder without its index falls back to model.safetensors, which this one lacks.
          reject(
            file === 'model.safetensors.index.json' ? /\.safetensors/ : file,
            /does not exist|missing|no such|not found|has no|neither/i,
          ),
    ),
  );
  // Each command finds and opens the file its own way (the CLI reads config.json before the library does).
  return mutations.map(everyCommand);
}
