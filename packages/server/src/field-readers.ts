import { InvalidFieldError } from './errors.js';

/** A JSON request body's fields, read one by one; every reader names the field in its error. */
export type Body = Readonly<Record<string, unknown>>;

/** The body as an object, or a 400 naming the body. */
export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidFieldError('body', 'the request body must be a JSON object');
  }
  return value as Body;
}

/** A string field; undefined when absent (or null) and not required. */
export function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new InvalidFieldError(field, `must be a string, got ${describe(value)}`);
  return value;
}

export function requiredString(body: Body, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new InvalidFieldError(field, 'is required');
  return value;
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new InvalidFieldError(field, `must be true or false, got ${describe(value)}`);
  return value;
}

/** A number in [min, max]; `integer` also requires a whole number. */
export function optionalNumber(
  body: Body,
  field: string,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidFieldError(field, `must be a number, got ${describe(value)}`);
  }
  if (range.integer && !Number.isInteger(value))
    throw new InvalidFieldError(field, `must be an integer, got ${value}`);
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    throw new InvalidFieldError(
      field,
      `must be between ${range.min ?? '-∞'} and ${range.max ?? '∞'}, got ${value}`,
    );
  }
  return value;
}

/** OpenAI's `stop`: a string or a list of at most `max` non-empty strings. */
export function stopSequences(body: Body, field: string, max: number): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length > max ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new InvalidFieldError(field, `must be a non-empty string or a list of at most ${max} of them`);
  }
  return list as string[];
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'string'
    ? `"${value.slice(0, 40)}"`
    : typeof value === 'object'
      ? 'an object'
      : String(value);
}
