import { ConfigFields, type RawConfig } from '@tsformer/core-tensor';
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

  /** An HF activation name (`ACT2FN`) that `@tsformer/layers` implements. */
  activation(field: string, fallback: string): string {
    const value = this.string(field, fallback);
    if (!ACTIVATION_NAMES.includes(value)) {
      this.fail(field, `"${value}" is not a supported activation; supported: ${ACTIVATION_NAMES.join(', ')}`);
    }
    return value;
  }
}
