import { ConfigFields, fieldRules, type RawConfig } from '@tsformer/core-tensor';
import { ACTIVATION_NAMES } from '@tsformer/layers';

export { ConfigFieldError, type RawConfig } from '@tsformer/core-tensor';

/**
 * Readers of one model type's config.json fields: core-tensor's `ConfigFields` (typed, bounded sizes,
 * errors as `<model_type> config: <field> …`) plus what only models read, the activation name.
 * Families read every field through one of these, so every default lives in the family's
 * `resolve<Type>Config` next to the field it belongs to.
 */
export class ModelConfigFields extends ConfigFields {
  constructor(
    raw: RawConfig,
    readonly modelType: string,
  ) {
    super(raw, `${modelType} config`);
  }

  /**
   * `tie_word_embeddings`, or `fallback` when absent. An explicit `null` is an error: Hugging Face
   * reads it as "not tied" and then initialises a checkpoint's missing `lm_head` at random, where the
   * family's default would tie it; neither answer can be told apart from a mistake in the file.
   */
  tieWordEmbeddings(fallback: boolean): boolean {
    if (this.raw.tie_word_embeddings === null) this.check('tie_word_embeddings', fieldRules.boolean, null);
    return this.boolean('tie_word_embeddings', fallback);
  }

  /** An HF activation name (`ACT2FN`) that `@tsformer/layers` implements. */
  activation(field: string, fallback: string): string {
    const value = this.string(field, fallback);
    if (!ACTIVATION_NAMES.includes(value)) {
      this.fail(field, `"${value}" is not a supported activation; supported: ${ACTIVATION_NAMES.join(', ')}`);
    }
    return value;
  }
}
