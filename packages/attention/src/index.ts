export { applyRotaryEmbedding, checkRotaryInputs, rotateHalf } from './apply-rotary-embedding.js';
export { type CheckedAttentionInput, checkAttentionInput } from './attention-input.js';
export {
  type AttentionMaskOptions,
  buildAttentionMask,
  buildPaddingMask,
  MASKED_SCORE,
} from './attention-mask.js';
export {
  getAttentionImplementation,
  listAttentionImplementations,
  registerAttentionImplementation,
} from './attention-registry.js';
export type { AttentionImplementation, AttentionInput, AttentionOutput } from './attention-types.js';
export { disableCpuAttention, enableCpuAttention } from './cpu/enable-cpu-attention.js';
export { decodeAttention } from './decode-attention.js';
export { eagerAttention } from './eager-attention.js';
export { AttentionInputError, RopeConfigError, UnknownAttentionImplementationError } from './errors.js';
export { keyValueBlock, storeKeyValues } from './key-value-block.js';
export {
  projectQueryKeyValueHeads,
  type QueryKeyValueProjections,
} from './project-query-key-value-heads.js';
export { type RopeFrequencies, ropeInverseFrequencies } from './rope-frequencies.js';
export {
  type RawRopeConfig,
  type RawRopeParameters,
  type ResolveRopeOptions,
  ROPE_TYPES,
  type RopeParameters,
  type RopeType,
  resolveRopeParameters,
} from './rope-parameters.js';
export { RotaryEmbedding, type RotaryEmbeddingOptions } from './rotary-embedding.js';
export { type RotaryKeyValues, rotaryKeyValues } from './rotary-key-values.js';
export { softcapLogits } from './softcap-logits.js';
export {
  checkFusedLayout,
  type FusedQueryKeyValue,
  type FusedQueryKeyValueLayout,
  mergeHeads,
  type QueryKeyValue,
  splitFusedQueryKeyValue,
  splitHeads,
} from './split-heads.js';
export {
  type RotaryAngleTensors,
  type StoredQueryKeyValue,
  storeFusedQueryKeyValue,
} from './store-fused-query-key-value.js';
export { disableWebgpuAttention, enableWebgpuAttention } from './webgpu/enable-webgpu-attention.js';
