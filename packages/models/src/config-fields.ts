import { TsformerError } from '@tsformer/core-tensor';
import { ACTIVATION_NAMES } from '@tsformer/layers';

/** `config.json` as Hugging Face writes it: snake_case fields, read through `ConfigFields`. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** A config field with a value the model cannot be built from; the message names the field. */
export class ConfigFieldError extends TsformerError {
  override name = 'ConfigFieldError';
  constructor(
    readonly modelType: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${modelType} config: ${field} ${problem}`);
  }
}

/**
 * Typed readers of raw (snake_case) config fields for one model type: each returns the field's
 * value, or its default when the field is absent or null, and throws a `ConfigFieldError` naming
 * the field otherwise. Families read every field through one of these, so every default lives in
 * the family's `resolve<Type>Config` next to the field it belongs to.
 */
export class ConfigFields {
  constructor(
    readonly raw: RawConfig,
    readonly modelType: string,
  ) {}

  /** The field's raw value (undefined when absent or null). */
  value(field: string): unknown {
    return this.raw[field] ?? undefined;
  }

  /** The first of `fields` that is present (HF's `attribute_map` aliases: `n_embd` / `hidden_size`). */
  firstPresent(...fields: string[]): string {
    return fields.find((field) => this.value(field) !== undefined) ?? fields[0]!;
  }

  fail(field: string, problem: string): never {
    throw new ConfigFieldError(this.modelType, field, problem);
  }

  positiveInteger(field: string, fallback: number): number {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      this.fail(field, `must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** A positive integer, or null when the field is absent or null (`head_dim`, `n_inner`). */
  optionalPositiveInteger(field: string): number | null {
    return this.value(field) === undefined ? null : this.positiveInteger(field, 0);
  }

  /** A finite number greater than zero (epsilons, rope theta). */
  positiveNumber(field: string, fallback: number): number {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'number' || !(Number.isFinite(value) && value > 0)) {
      this.fail(field, `must be a positive number, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** A dropout-style rate in [0, 1). */
  rate(field: string, fallback: number): number {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
      this.fail(field, `must be a number in [0, 1), got ${JSON.stringify(value)}`);
    }
    return value;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  string(field: string, fallback: string): string {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${JSON.stringify(value)}`);
    return value;
  }

  /** An HF activation name (`ACT2FN`) that `@tsformer/layers` implements. */
  activation(field: string, fallback: string): string {
    const value = this.string(field, fallback);
    if (!ACTIVATION_NAMES.includes(value)) {
      this.fail(field, `"${value}" is not a supported activation; supported: ${ACTIVATION_NAMES.join(', ')}`);
    }
    return value;
  }

  /**
   * A token id below `vocabSize`, or null: an explicit `null` in config.json means none (as in HF),
   * an absent field takes `fallback`.
   */
  tokenId(field: string, fallback: number | null, vocabSize: number): number | null {
    const value = field in this.raw ? this.raw[field] : fallback;
    if (value === null || value === undefined) return null;
    this.assertTokenId(field, value, vocabSize);
    return value as number;
  }

  /** One token id or a list of them (`eos_token_id`), or null (explicit null: none; absent: `fallback`). */
  tokenIds(field: string, fallback: number | null, vocabSize: number): number | number[] | null {
    const value = field in this.raw ? this.raw[field] : fallback;
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) {
      for (const id of value) this.assertTokenId(field, id, vocabSize);
      return [...value] as number[];
    }
    this.assertTokenId(field, value, vocabSize);
    return value as number;
  }

  private assertTokenId(field: string, value: unknown, vocabSize: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= vocabSize) {
      this.fail(field, `must be a token id in [0, ${vocabSize}), got ${JSON.stringify(value)}`);
    }
  }
}
