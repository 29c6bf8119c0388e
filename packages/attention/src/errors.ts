import { TsformerError } from '@tsformer/core-tensor';

/** Tensors or arguments handed to a mask builder, an attention function or RoPE that do not fit. */
export class AttentionInputError extends TsformerError {
  override name = 'AttentionInputError';
}

/** An attention implementation name that was never registered. */
export class UnknownAttentionImplementationError extends TsformerError {
  override name = 'UnknownAttentionImplementationError';
  constructor(
    readonly implementation: string,
    readonly registered: readonly string[],
  ) {
    super(`unknown attention implementation "${implementation}"; registered: ${registered.join(', ')}`);
  }
}

/** A RoPE configuration (`rope_parameters`, `rope_scaling`, `rope_theta`, ...) that cannot be used. */
export class RopeConfigError extends TsformerError {
  override name = 'RopeConfigError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`invalid RoPE config: ${field} ${problem}`);
  }
}
