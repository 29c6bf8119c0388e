import { InvalidArgumentError } from 'commander';

/**
 * Parsers for option values, for commander's `argParser`: each throws InvalidArgumentError (exit
 * status 2: "option '--x <v>' argument 'y' is invalid. <reason>") on a value of the wrong kind.
 * Ranges of generation parameters are checked where they are defined (`@tsformer/decoding`).
 */

/** A decimal integer, optionally signed: what `Number` would also read as hex, binary or exponent is refused. */
const DECIMAL_INTEGER = /^[+-]?\d+$/;
/** A decimal number: digits with an optional fraction and exponent (no hex, no `Infinity`). */
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Any integer, written in decimal digits (`0x10`, `1e3`, `12.0` are refused). */
export function integer(value: string): number {
  const parsed = Number(value);
  if (!DECIMAL_INTEGER.test(value) || !Number.isSafeInteger(parsed))
    throw new InvalidArgumentError('Expected an integer in decimal digits.');
  return parsed;
}

/** An integer of at least `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const parsed = integer(value);
    if (parsed < min) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return parsed;
  };
}

/** Any finite number, written in decimal (`0.9`, `1e-3`; not `0x1`). */
export function finiteNumber(value: string): number {
  const parsed = Number(value);
  if (!DECIMAL_NUMBER.test(value) || !Number.isFinite(parsed))
    throw new InvalidArgumentError('Expected a number in decimal notation.');
  return parsed;
}

/** A finite number of at least zero. */
export function nonNegativeNumber(value: string): number {
  const parsed = finiteNumber(value);
  if (parsed < 0) throw new InvalidArgumentError('Expected a number >= 0.');
  return parsed;
}

/** Comma-separated token ids (`--eos-token-id 2,13`), appended to those of earlier uses of the option. */
export function tokenIds(value: string, previous: number[] = []): number[] {
  return [...previous, ...parseIdList(value)];
}

/** One comma-separated id sequence per use of the option (`--bad-words-ids 5,6 --bad-words-ids 9`). */
export function tokenIdRows(value: string, previous: number[][] = []): number[][] {
  return [...previous, parseIdList(value)];
}

function parseIdList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const ids = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (ids.some((id) => !Number.isSafeInteger(id))) {
    throw new InvalidArgumentError('Expected comma-separated token ids (integers >= 0).');
  }
  return ids;
}

/** A repeatable string option (`--stop "\n\n" --stop "###"`). */
export function collectStrings(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `true`, `false` or `never` (Hugging Face's `early_stopping`). */
export function earlyStopping(value: string): boolean | 'never' {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'never') return 'never';
  throw new InvalidArgumentError('Expected true, false or never.');
}
