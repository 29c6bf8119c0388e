// Field edits of a JSON object file, written back as text. A raw value (`1e400`, `64.0`) goes into the
// text as it is, so a mutation can write what JSON.stringify never would.

/** A value written into the JSON text verbatim. */
export interface RawJson {
  readonly raw: string;
}

export function raw(text: string): RawJson {
  return { raw: text };
}

/** A value to set: any JSON value, raw text, or `MISSING` to delete the field. */
export type FieldValue = unknown;

/** Deletes the field. */
export const MISSING: unique symbol = Symbol('missing');

function isRaw(value: unknown): value is RawJson {
  return typeof value === 'object' && value !== null && 'raw' in value && Object.keys(value).length === 1;
}

/**
 * `object` as JSON text with `path` (keys into nested objects) set to `value`. The original is not
 * changed; a missing intermediate object is created.
 */
export function withField(
  object: Record<string, unknown>,
  path: readonly string[],
  value: FieldValue,
): string {
  const copy = structuredClone(object);
  let target = copy;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  const placeholder = '\u0000corpus-raw-value\u0000';
  if (value === MISSING) delete target[last];
  else target[last] = isRaw(value) ? placeholder : value;
  const text = JSON.stringify(copy, null, 2);
  return isRaw(value) ? text.replace(JSON.stringify(placeholder), value.raw) : text;
}

/** `object` with several top-level fields set to plain JSON values or deleted (`MISSING`); no raw text. */
export function withFields(
  object: Record<string, unknown>,
  fields: Readonly<Record<string, FieldValue>>,
): string {
  let copy = structuredClone(object);
  for (const [field, value] of Object.entries(fields)) {
    copy = JSON.parse(withField(copy, [field], value)) as Record<string, unknown>;
  }
  return JSON.stringify(copy, null, 2);
}

/** How a value reads in a case name: `-1`, `"64"`, `null`, `1e400`, `missing`. */
export function describeValue(value: FieldValue): string {
  if (value === MISSING) return 'missing';
  if (isRaw(value)) return value.raw;
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
