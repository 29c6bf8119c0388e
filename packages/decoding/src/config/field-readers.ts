import {
  copyFieldValue,
  describeFieldValue,
  type FieldRule,
  fieldRule,
  fieldRules,
} from '@tsformer/core-tensor';
import { GenerationConfigError } from '../errors.js';
import type { CacheImplementation } from '../language-model.js';

/**
 * A generation field by both of its names: the camelCase option and Hugging Face's snake_case key.
 * (The file a value came from is added where the file is read: core-tensor's `withFile`.)
 */
export interface FieldName {
  readonly option: string;
  readonly hf: string;
}

/** Checks one field's value and returns it normalised (single ids become lists, ...); throws on bad input. */
export type FieldReader<T> = (value: unknown, field: FieldName) => T;

/** Builds the error for a field, naming it both ways. */
export function fieldError(field: FieldName, requirement: string, value: unknown): GenerationConfigError {
  return new GenerationConfigError(
    field.option,
    `\`${field.option}\` (${field.hf}) must be ${requirement}, got ${describeFieldValue(value)}`,
  );
}

/** A reader that checks a value against one of the config-field kit's rules and returns a copy of it. */
function ruled<T>(rule: FieldRule<T>): FieldReader<T> {
  return (value, field) => {
    if (!rule.accepts(value)) throw fieldError(field, rule.expected, value);
    return copyFieldValue(value);
  };
}

/** A reader that accepts a single value as a one-entry list: `single` or `list`, always a list. */
function oneOrList<T>(
  single: FieldRule<T>,
  list: FieldRule<readonly T[]>,
  expected: string,
): FieldReader<readonly T[]> {
  return (value, field) => {
    if (single.accepts(value)) return [value];
    if (list.accepts(value)) return copyFieldValue(value);
    throw fieldError(field, expected, value);
  };
}

const id = fieldRules.tokenId();
const nonEmptyIds = fieldRules.list(id, 'a non-empty list of token ids', { nonEmpty: true });

export const integer: FieldReader<number> = ruled(fieldRules.integer());

export function integerAtLeast(min: number): FieldReader<number> {
  return ruled(fieldRules.integer({ min }));
}

/** A number in an interval; `open` marks the ends that are excluded. */
export function numberInRange(
  min: number,
  max: number,
  open: { min?: boolean; max?: boolean } = {},
): FieldReader<number> {
  return ruled(fieldRules.numberIn(min, max, open));
}

export const finiteNumber: FieldReader<number> = ruled(fieldRules.finiteNumber);

export const positiveNumber: FieldReader<number> = ruled(fieldRules.positiveNumber);

export const boolean: FieldReader<boolean> = ruled(fieldRules.boolean);

export const earlyStopping: FieldReader<boolean | 'never'> = ruled(fieldRules.oneOf([true, false, 'never']));

/**
 * Older names of a static cache whose layers follow the model's (a sliding-window cache for each
 * sliding layer), which transformers 5 still reads as `static`: Gemma 2's generation_config.json says
 * `"hybrid"`.
 */
const STATIC_CACHE_ALIASES: readonly unknown[] = ['hybrid', 'hybrid_chunked', 'sliding_window'];

const cacheImplementationName = ruled(fieldRules.oneOf(['dynamic', 'static']));

/** `dynamic` or `static` (an older alias of `static` is read as `static`). */
export const cacheImplementation: FieldReader<CacheImplementation> = (value, field) =>
  STATIC_CACHE_ALIASES.includes(value) ? 'static' : cacheImplementationName(value, field);

export const tokenId: FieldReader<number> = ruled(id);

export const tokenIdList: FieldReader<readonly number[]> = ruled(fieldRules.list(id, 'a list of token ids'));

/** One id or a non-empty list of ids, always returned as a list. */
export const tokenIdOrIds: FieldReader<readonly number[]> = oneOrList(
  id,
  nonEmptyIds,
  'a token id or a non-empty list of token ids',
);

export const tokenIdLists: FieldReader<readonly (readonly number[])[]> = ruled(
  fieldRules.list(nonEmptyIds, 'a non-empty list of non-empty lists of token ids', { nonEmpty: true }),
);

const nonEmptyString = fieldRule<string>(
  'a non-empty string',
  (value) => typeof value === 'string' && value.length > 0,
);

export const stopStrings: FieldReader<readonly string[]> = oneOrList(
  nonEmptyString,
  fieldRules.list(nonEmptyString, 'a non-empty list of non-empty strings', { nonEmpty: true }),
  'a non-empty string or a non-empty list of non-empty strings',
);

/** A bias may be ±Infinity (a hard ban or force), never NaN. */
const bias = fieldRule<number>('a number', (value) => typeof value === 'number' && !Number.isNaN(value));

export const sequenceBias: FieldReader<readonly (readonly [readonly number[], number])[]> = ruled(
  fieldRules.list(
    fieldRules.tuple<[readonly number[], number]>([nonEmptyIds, bias], '[token ids, bias]'),
    'a non-empty list of [token ids, bias] pairs',
    { nonEmpty: true },
  ),
);

export const exponentialDecay: FieldReader<readonly [number, number]> = ruled(
  fieldRules.tuple<[number, number]>(
    [fieldRules.integer({ min: 0 }), fieldRules.finiteNumber],
    'a pair [startIndex (an integer >= 0), decayFactor (a number)]',
  ),
);
