import { GenerationConfigError } from '../errors.js';
import type { CacheImplementation } from '../language-model.js';

/** A generation field by both of its names: the camelCase option and Hugging Face's snake_case key. */
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
    `\`${field.option}\` (${field.hf}) must be ${requirement}, got ${describeValue(value)}`,
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export const integer: FieldReader<number> = (value, field) => {
  if (!isInteger(value)) throw fieldError(field, 'an integer', value);
  return value;
};

export function integerAtLeast(min: number): FieldReader<number> {
  return (value, field) => {
    if (!isInteger(value) || value < min) throw fieldError(field, `an integer >= ${min}`, value);
    return value;
  };
}

/** A number in an interval; `open` marks the ends that are excluded. */
export function numberInRange(
  min: number,
  max: number,
  open: { min?: boolean; max?: boolean } = {},
): FieldReader<number> {
  const interval = `${open.min ? '(' : '['}${min}, ${max}${open.max ? ')' : ']'}`;
  return (value, field) => {
    const fits =
      typeof value === 'number' &&
      (open.min ? value > min : value >= min) &&
      (open.max ? value < max : value <= max);
    if (!fits) throw fieldError(field, `a number in ${interval}`, value);
    return value as number;
  };
}

export const finiteNumber: FieldReader<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fieldError(field, 'a finite number', value);
  return value;
};

export const positiveNumber: FieldReader<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw fieldError(field, 'a finite number > 0', value);
  }
  return value;
};

export const boolean: FieldReader<boolean> = (value, field) => {
  if (typeof value !== 'boolean') throw fieldError(field, 'true or false', value);
  return value;
};

export const earlyStopping: FieldReader<boolean | 'never'> = (value, field) => {
  if (typeof value !== 'boolean' && value !== 'never')
    throw fieldError(field, 'true, false or "never"', value);
  return value;
};

export const cacheImplementation: FieldReader<CacheImplementation> = (value, field) => {
  if (value !== 'dynamic' && value !== 'static') throw fieldError(field, '"dynamic" or "static"', value);
  return value;
};

export const tokenId: FieldReader<number> = (value, field) => {
  if (!isInteger(value) || value < 0) throw fieldError(field, 'a token id (an integer >= 0)', value);
  return value;
};

export const tokenIdList: FieldReader<readonly number[]> = (value, field) => {
  if (!Array.isArray(value) || !value.every((id) => isInteger(id) && id >= 0)) {
    throw fieldError(field, 'a list of token ids', value);
  }
  return [...value];
};

/** One id or a non-empty list of ids, always returned as a list. */
export const tokenIdOrIds: FieldReader<readonly number[]> = (value, field) => {
  if (isInteger(value) && value >= 0) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((id) => isInteger(id) && id >= 0))
    return [...value];
  throw fieldError(field, 'a token id or a non-empty list of token ids', value);
};

export const tokenIdLists: FieldReader<readonly (readonly number[])[]> = (value, field) => {
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((ids) => Array.isArray(ids) && ids.length > 0 && ids.every((id) => isInteger(id) && id >= 0));
  if (!valid) throw fieldError(field, 'a non-empty list of non-empty lists of token ids', value);
  return (value as number[][]).map((ids) => [...ids]);
};

export const stopStrings: FieldReader<readonly string[]> = (value, field) => {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && s.length > 0)
  ) {
    throw fieldError(field, 'a non-empty string or a non-empty list of non-empty strings', value);
  }
  return [...list];
};

export const sequenceBias: FieldReader<readonly (readonly [readonly number[], number])[]> = (
  value,
  field,
) => {
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (entry) =>
        Array.isArray(entry) &&
        entry.length === 2 &&
        Array.isArray(entry[0]) &&
        entry[0].length > 0 &&
        entry[0].every((id: unknown) => isInteger(id) && id >= 0) &&
        typeof entry[1] === 'number' &&
        !Number.isNaN(entry[1]),
    );
  if (!valid) throw fieldError(field, 'a non-empty list of [token ids, bias] pairs', value);
  return (value as [number[], number][]).map(([ids, bias]) => [[...ids], bias] as const);
};

export const exponentialDecay: FieldReader<readonly [number, number]> = (value, field) => {
  const valid =
    Array.isArray(value) &&
    value.length === 2 &&
    isInteger(value[0]) &&
    value[0] >= 0 &&
    typeof value[1] === 'number' &&
    Number.isFinite(value[1]);
  if (!valid) throw fieldError(field, 'a pair [startIndex (an integer >= 0), decayFactor (a number)]', value);
  return [value[0], value[1]] as const;
};
