import { ConfigFieldError, type TsformerError } from './errors.js';

/** A JSON config as a file holds it (config.json, generation_config.json): snake_case fields. */
export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * The largest size a config field may give, by kind: the one place these bounds are written down.
 * Each admits every published checkpoint with room to spare, and together they keep what is derived
 * from them (parameter counts, module trees, tables) finite, exact and quick to build:
 *
 * | kind | bound | fields | largest seen in the wild |
 * | --- | --- | --- | --- |
 * | `layers` | 1024 | `n_layer`, `num_hidden_layers`, `encoder_layers`, … | 126 (Llama-3.1-405B) |
 * | `width` | 2^17 | `n_embd`, `hidden_size`, `d_model`, `head_dim` | 18432 (Nemotron-4-340B) |
 * | `ffnWidth` | 2^20 | `n_inner`, `intermediate_size`, `*_ffn_dim` | 73728 (Nemotron-4-340B) |
 * | `heads` | 2^14 | `n_head`, `num_attention_heads`, `num_key_value_heads`, … | 128 (Llama-3.1-405B) |
 * | `vocab` | 2^22 | `vocab_size`, `decoder_vocab_size`, … | 262144 (Gemma 3) |
 * | `positions` | 2^24 | `max_position_embeddings`, `n_positions`, `sliding_window` | 10485760 (Llama-4-Scout) |
 */
export const CONFIG_SIZE_LIMITS = {
  layers: 1024,
  width: 2 ** 17,
  ffnWidth: 2 ** 20,
  heads: 2 ** 14,
  vocab: 2 ** 22,
  positions: 2 ** 24,
} as const;

/** What a size field measures, choosing its bound in `CONFIG_SIZE_LIMITS`. */
export type SizeKind = keyof typeof CONFIG_SIZE_LIMITS;

/**
 * What a field's value must be: a test and the words that complete "<field> must be …". Rules are
 * plain values, so a package can combine the kit's rules into its own (a list of pairs, an id or ids).
 */
export interface FieldRule<T> {
  /** Completes "must be …": `a positive integer up to 1024`, `true or false`. */
  readonly expected: string;
  accepts(value: unknown): value is T;
}

/** Makes a rule from a test and its wording. */
export function fieldRule<T>(expected: string, accepts: (value: unknown) => boolean): FieldRule<T> {
  return { expected, accepts: accepts as (value: unknown) => value is T };
}

function isSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function isPlainObject(value: unknown): value is RawConfig {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Interval notation: `[0, 1)`, `(0, 1]`. */
function interval(min: number, max: number, open: { min?: boolean; max?: boolean }): string {
  return `${open.min ? '(' : '['}${min}, ${max}${open.max ? ')' : ']'}`;
}

/** A JSON value as written in `choices`: strings quoted, `true`, `false`. */
function choiceList(choices: readonly (string | boolean)[]): string {
  const shown = choices.map((choice) => JSON.stringify(choice));
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

/** The kit's rules; every number rule refuses NaN, infinities and (for integers) unsafe integers. */
export const fieldRules = {
  /** A safe integer, optionally at least `min` and at most `max`. */
  integer(range: { min?: number; max?: number } = {}): FieldRule<number> {
    const { min, max } = range;
    const expected =
      min !== undefined && max !== undefined
        ? `an integer in [${min}, ${max}]`
        : min !== undefined
          ? `an integer >= ${min}`
          : max !== undefined
            ? `an integer <= ${max}`
            : 'an integer';
    return fieldRule(
      expected,
      (value) =>
        isSafeInteger(value) && (min === undefined || value >= min) && (max === undefined || value <= max),
    );
  },

  /** A size of `kind`: an integer from 1 to its bound in `CONFIG_SIZE_LIMITS`. */
  size(kind: SizeKind): FieldRule<number> {
    const limit = CONFIG_SIZE_LIMITS[kind];
    return fieldRule(
      `a positive integer up to ${limit}`,
      (value) => isSafeInteger(value) && value >= 1 && value <= limit,
    );
  },

  /** A finite number in `[min, max]`; `open` excludes an end. */
  numberIn(min: number, max: number, open: { min?: boolean; max?: boolean } = {}): FieldRule<number> {
    return fieldRule(
      `a number in ${interval(min, max, open)}`,
      (value) =>
        typeof value === 'number' &&
        (open.min ? value > min : value >= min) &&
        (open.max ? value < max : value <= max),
    );
  },

  finiteNumber: fieldRule<number>(
    'a finite number',
    (value) => typeof value === 'number' && Number.isFinite(value),
  ),

  positiveNumber: fieldRule<number>(
    'a positive number',
    (value) => typeof value === 'number' && Number.isFinite(value) && value > 0,
  ),

  nonNegativeNumber: fieldRule<number>(
    'a number >= 0',
    (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
  ),

  /** A dropout-style probability in [0, 1). */
  rate: fieldRule<number>(
    'a number in [0, 1)',
    (value) => typeof value === 'number' && value >= 0 && value < 1,
  ),

  boolean: fieldRule<boolean>('true or false', (value) => typeof value === 'boolean'),

  string: fieldRule<string>('a string', (value) => typeof value === 'string'),

  /** One of a few JSON values (`"dynamic" or "static"`, `true, false or "never"`). */
  oneOf<const T extends string | boolean>(choices: readonly T[]): FieldRule<T> {
    return fieldRule(choiceList(choices), (value) => (choices as readonly unknown[]).includes(value));
  },

  /** A token id: an integer >= 0, below `vocabSize` when it is given. */
  tokenId(vocabSize?: number): FieldRule<number> {
    return fieldRule(
      vocabSize === undefined ? 'a token id (an integer >= 0)' : `a token id in [0, ${vocabSize})`,
      (value) => isSafeInteger(value) && value >= 0 && (vocabSize === undefined || value < vocabSize),
    );
  },

  /** A JSON object (not null, not a list). */
  object: fieldRule<RawConfig>('a JSON object', isPlainObject),

  /** A list whose every item follows `item`; `length` fixes its length, `nonEmpty` refuses `[]`. */
  list<T>(
    item: FieldRule<T>,
    expected: string,
    shape: { length?: number; nonEmpty?: boolean } = {},
  ): FieldRule<readonly T[]> {
    return fieldRule(
      expected,
      (value) =>
        Array.isArray(value) &&
        (shape.length === undefined || value.length === shape.length) &&
        (!shape.nonEmpty || value.length > 0) &&
        value.every((entry) => item.accepts(entry)),
    );
  },

  /** A fixed-length list whose entries follow `items` in order (`[startIndex, factor]`). */
  tuple<const T extends readonly unknown[]>(
    items: { readonly [K in keyof T]: FieldRule<T[K]> },
    expected: string,
  ): FieldRule<T> {
    return fieldRule(
      expected,
      (value) =>
        Array.isArray(value) &&
        value.length === items.length &&
        items.every((rule, index) => rule.accepts(value[index])),
    );
  },
};

/**
 * A value as an error message shows it: JSON, shortened past 80 characters. A number beyond 2^53
 * is shown in exponent form, since JSON parsing has already rounded it (2^64 − 1 is not
 * 18446744073709552000, which is what its digits would claim).
 */
export function describeFieldValue(value: unknown): string {
  if (typeof value === 'number' && (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER)) {
    return Number.isFinite(value) ? value.toExponential() : String(value);
  }
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** A copy of a JSON value, so that what is returned never aliases what the caller passed in. */
export function copyFieldValue<T>(value: T): T {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

export interface ConfigFieldsOptions {
  /**
   * Builds the error thrown for a bad field (a package's own `ConfigFieldError` subclass); default:
   * a `ConfigFieldError` naming the source and the field.
   */
  error?: (field: string, problem: string) => TsformerError;
  /** Put before every field name in errors: `rope_scaling.` for the fields of a nested object. */
  prefix?: string;
}

/**
 * Typed readers of one JSON config's raw (snake_case) fields, shared by models (config.json),
 * attention (RoPE parameters) and decoding (generation_config.json). Each reader returns the field's
 * value, or `fallback` when the field is absent or null (a size: absent only), and throws one typed error naming the source
 * and the field otherwise. Values come back copied: nothing returned aliases the raw config.
 */
export class ConfigFields {
  private readonly makeError: (field: string, problem: string) => TsformerError;
  private readonly prefix: string;

  constructor(
    readonly raw: RawConfig,
    /** What is read, for messages: `llama config`, `generation_config.json`. */
    readonly source: string,
    private readonly options: ConfigFieldsOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.makeError = options.error ?? ((field, problem) => new ConfigFieldError(source, field, problem));
  }

  /** The field's raw value (undefined when absent or null). */
  value(field: string): unknown {
    return this.raw[field] ?? undefined;
  }

  /** Whether the field is present and not null. */
  has(field: string): boolean {
    return this.value(field) !== undefined;
  }

  /** The first of `fields` that is present (HF's `attribute_map` aliases: `n_embd` / `hidden_size`). */
  firstPresent(...fields: string[]): string {
    return fields.find((field) => this.has(field)) ?? fields[0]!;
  }

  /** The name errors give `field` (`rope_scaling.factor` inside a nested object). */
  nameOf(field: string): string {
    return this.prefix + field;
  }

  /** Throws this source's error for `field`: `<source>: <field> <problem>`. */
  fail(field: string, problem: string): never {
    throw this.makeError(this.nameOf(field), problem);
  }

  /** Checks one value against `rule` on behalf of `field`, returning a copy of it. */
  check<T>(field: string, rule: FieldRule<T>, value: unknown): T {
    if (!rule.accepts(value)) this.fail(field, `must be ${rule.expected}, got ${describeFieldValue(value)}`);
    return copyFieldValue(value);
  }

  /** The field's value following `rule`, or `fallback` when it is absent or null. */
  read<T, F = T>(field: string, rule: FieldRule<T>, fallback: F): T | F {
    const value = this.value(field);
    return value === undefined ? fallback : this.check(field, rule, value);
  }

  /** The field's value following `rule`, or null when it is absent or null. */
  optional<T>(field: string, rule: FieldRule<T>): T | null {
    return this.read(field, rule, null);
  }

  /**
   * A size of `kind` (see `CONFIG_SIZE_LIMITS`), or `fallback` when absent. An explicit `null` is an
   * error, not the default: Hugging Face passes `None` on to the model, which no size can be built
   * from (a size that `None` derives, like `num_key_value_heads`, is read with `optionalSize`).
   */
  size(field: string, kind: SizeKind, fallback: number): number {
    const rule = fieldRules.size(kind);
    return this.raw[field] === null ? this.check(field, rule, null) : this.read(field, rule, fallback);
  }

  /** A size of `kind`, or null when absent or null (`head_dim`, `n_inner`). */
  optionalSize(field: string, kind: SizeKind): number | null {
    return this.optional(field, fieldRules.size(kind));
  }

  /** A finite number greater than zero (epsilons, rope theta). */
  positiveNumber(field: string, fallback: number): number {
    return this.read(field, fieldRules.positiveNumber, fallback);
  }

  /** A dropout-style rate in [0, 1). */
  rate(field: string, fallback: number): number {
    return this.read(field, fieldRules.rate, fallback);
  }

  boolean(field: string, fallback: boolean): boolean {
    return this.read(field, fieldRules.boolean, fallback);
  }

  string(field: string, fallback: string): string {
    return this.read(field, fieldRules.string, fallback);
  }

  /** One of a few strings (`rope_type`, `cache_implementation`). */
  oneOf<const T extends string>(field: string, choices: readonly T[], fallback: T): T {
    return this.read(field, fieldRules.oneOf(choices), fallback);
  }

  /**
   * A token id below `vocabSize`, or null: an explicit `null` means none (as in HF), an absent
   * field takes `fallback`.
   */
  tokenId(field: string, fallback: number | null, vocabSize: number): number | null {
    if (!(field in this.raw)) return fallback;
    return this.optional(field, fieldRules.tokenId(vocabSize));
  }

  /** One token id or a list of them (`eos_token_id`), or null (explicit null: none; absent: `fallback`). */
  tokenIds(field: string, fallback: number | null, vocabSize: number): number | number[] | null {
    if (!(field in this.raw)) return fallback;
    const id = fieldRules.tokenId(vocabSize);
    if (!Array.isArray(this.value(field))) return this.optional(field, id);
    return [
      ...this.check(
        field,
        fieldRules.list(id, `a list of token ids in [0, ${vocabSize})`),
        this.value(field),
      ),
    ];
  }

  /**
   * The fields of a nested JSON object (`rope_scaling`), read with this source and errors naming
   * `field.key`; null when the field is absent or null. Anything but an object is an error.
   */
  nested(field: string): ConfigFields | null {
    const object = this.optional(field, fieldRules.object);
    return object === null
      ? null
      : new ConfigFields(object, this.source, { ...this.options, prefix: `${this.nameOf(field)}.` });
  }
}
