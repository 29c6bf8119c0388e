import { GenerationConfigError, type GenerationOptions } from '@tsformer/decoding';
import { type Command, Option } from 'commander';
import { UsageError } from './cli-errors.js';
import {
  collectStrings,
  earlyStopping,
  finiteNumber,
  integer,
  tokenIdRows,
  tokenIds,
} from './option-parsers.js';

type GenerationKey = keyof GenerationOptions;

// biome-ignore lint/suspicious/noExplicitAny: commander's argParser takes (value, previous) of any type.
type ArgParser = (value: string, previous: any) => unknown;

/**
 * The Hugging Face generation parameters as flags: each flag is the kebab-case spelling of the
 * HF name, so commander's camelCase attribute is the `GenerationOptions` key (`--top-p` -> `topP`).
 * Values are checked for their kind here and for their range by `resolveGenerationConfig`.
 */
const GENERATION_FLAGS: readonly (readonly [flags: string, description: string, parse?: ArgParser])[] = [
  [
    '--max-new-tokens <n>',
    "tokens to generate (default 64 when neither this nor --max-length is set anywhere); the prompt plus these must fit the model's positions (learned: refused up front; rotary: a warning)",
    integer,
  ],
  ['--max-length <n>', 'total length, prompt included', integer],
  ['--min-new-tokens <n>', 'suppress EOS until this many new tokens', integer],
  ['--min-length <n>', 'suppress EOS until this total length', integer],
  ['--do-sample', 'sample instead of greedy / beam search'],
  ['--temperature <t>', 'divide logits by t (sampling)', finiteNumber],
  ['--top-k <k>', 'keep the k most likely tokens (0: all)', integer],
  ['--top-p <p>', 'nucleus sampling: keep the smallest set of probability >= p, p in (0, 1]', finiteNumber],
  ['--min-p <p>', 'drop tokens below p x the top probability', finiteNumber],
  ['--typical-p <p>', 'locally typical sampling mass, in (0, 1]', finiteNumber],
  ['--epsilon-cutoff <x>', 'drop tokens of probability below x', finiteNumber],
  ['--eta-cutoff <x>', 'eta sampling cutoff', finiteNumber],
  ['--num-beams <n>', 'beam search with n beams (the text is printed at the end)', integer],
  ['--num-return-sequences <n>', 'sequences to return (beams or samples)', integer],
  ['--no-repeat-ngram-size <n>', 'never repeat an n-gram', integer],
  ['--repetition-penalty <x>', 'penalise tokens already present (> 1 discourages)', finiteNumber],
  ['--length-penalty <x>', 'beam score = sum of log-probs / length^x', finiteNumber],
  ['--early-stopping [when]', 'beam search: true, false or never (bare flag: true)', earlyStopping],
  ['--max-time <seconds>', 'stop after this many seconds', finiteNumber],
  ['--eos-token-id <ids>', 'end-of-sequence token id(s), comma-separated', tokenIds],
  ['--pad-token-id <id>', 'padding token id', integer],
  ['--suppress-tokens <ids>', 'token ids never generated, comma-separated', tokenIds],
  ['--bad-words-ids <ids>', 'a token sequence never generated (repeat the flag for several)', tokenIdRows],
  [
    '--cache-implementation <kind>',
    'KV cache: dynamic (grows) or static (preallocated: fixed shapes for WebGPU)',
  ],
  [
    '--stop-strings <text>',
    'stop once the text ends with this string (repeatable; alias --stop)',
    collectStrings,
  ],
];

/** Adds every generation flag, `--stop` (alias of --stop-strings), `--no-cache` and `--seed` to a command. */
export function addGenerationFlags(command: Command): Command {
  for (const [flags, description, parse] of GENERATION_FLAGS) {
    const option = new Option(flags, description);
    // Commander reads a leading "--no-" as the negation of a boolean flag; --no-repeat-ngram-size
    // is Hugging Face's `no_repeat_ngram_size`, an ordinary value option.
    option.negate = false;
    if (parse) option.argParser(parse);
    command.addOption(option);
  }
  return command
    .addOption(new Option('--stop <text>', 'same as --stop-strings').argParser(collectStrings).hideHelp())
    .option('--no-cache', 're-read the whole sequence at every step (use_cache=False)')
    .option('--seed <n>', 'seed of the sampling random generator (default: random)', integer);
}

/** What the generation flags hold (commander's parsed options). */
export type GenerationFlagValues = Partial<Record<GenerationKey, unknown>> & {
  stop?: string[];
  cache?: boolean;
  seed?: number;
};

/** The command line's layer of generation options: only what was given on it. */
export function generationOptionsFromFlags(values: GenerationFlagValues): GenerationOptions {
  const options: Record<string, unknown> = {};
  for (const [flags] of GENERATION_FLAGS) {
    const key = attributeName(flags) as GenerationKey;
    if (values[key] !== undefined) options[key] = values[key];
  }
  const stops = [...((values.stopStrings as string[] | undefined) ?? []), ...(values.stop ?? [])];
  if (stops.length > 0) options.stopStrings = stops;
  if (values.cache === false) options.useCache = false;
  return options as GenerationOptions;
}

/**
 * Turns an invalid-value error of a field given on the command line into a usage error (exit
 * status 2) that names the flag; errors in files (generation_config.json) pass through.
 */
export function asUsageError(error: unknown, commandLine: GenerationOptions): unknown {
  if (error instanceof GenerationConfigError && error.field in commandLine) {
    return new UsageError(`${flagName(error.field)}: ${error.message}`);
  }
  return error;
}

function attributeName(flags: string): string {
  const long = flags.split(' ')[0]!.slice(2);
  return long.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}
