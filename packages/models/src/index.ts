export {
  createModelFromConfig,
  type DescribedConfig,
  describeConfig,
  getModelFamily,
  MODEL_FAMILIES,
  type ModelFromConfig,
  parameterCountFromConfig,
  UnknownModelTypeError,
} from './auto.js';
export {
  type CausalLMConfig,
  type CausalLMForwardOptions,
  type CausalLMOutput,
  PretrainedCausalLM,
} from './causal-lm.js';
export {
  type ChatMessage,
  ChatTemplate,
  ChatTemplateError,
  type ChatTemplateOptions,
  selectChatTemplate,
} from './chat-template.js';
export { ConfigFieldError, ModelConfigFields, type RawConfig } from './config-fields.js';
export { type DecoderStepOptions, ModelInputError } from './decoder-step.js';
export { folderFiles } from './folder-files.js';
export {
  type FromPretrainedOptions,
  fromPretrained,
  type Pretrained,
} from './from-pretrained.js';
export { generationDefaults } from './generation-defaults.js';
export * from './gpt2/index.js';
export * from './llama/index.js';
export * from './marian/index.js';
export * from './mistral/index.js';
export type { ModelDescription, StackDescription } from './model-description.js';
export type {
  CreateModelOptions,
  FamilyLoadOptions,
  ModelFamily,
  PretrainedModel,
} from './model-family.js';
export { filesInMemory, ModelFileError, type ModelFiles, readJsonFile } from './model-files.js';
export { openModelWeights } from './model-weights.js';
export * from './qwen2/index.js';
export { type DecodeOptions, type EncodeOptions, PretrainedTokenizer } from './tokenizer.js';
export * from './transformer/index.js';
