export {
  createModelFromConfig,
  type DescribedConfig,
  describeConfig,
  getModelFamily,
  MODEL_FAMILIES,
  type ModelFromConfig,
  parameterCountFromConfig,
} from './auto.js';
export * from './bart/index.js';
export { blobFiles, fileListFiles } from './blob-files.js';
export {
  type CausalLMConfig,
  type CausalLMForwardOptions,
  type CausalLMOutput,
  PretrainedCausalLM,
} from './causal-lm.js';
export {
  type ChatMessage,
  ChatTemplate,
  type ChatTemplateOptions,
  selectChatTemplate,
} from './chat-template.js';
export { ConfigFieldError, ModelConfigFields, type RawConfig } from './config-fields.js';
export {
  Conversation,
  type PreparedTurn,
  plainConversation,
  type RenderConversation,
  type TooLong,
} from './conversation.js';
export { ConversationCache } from './conversation-cache.js';
export { CrossAttention, type CrossAttentionOptions } from './cross-attention.js';
export {
  ChatTemplateError,
  LoadOptionError,
  ModelDownloadError,
  ModelFileError,
  ModelInputError,
  SaveOptionError,
  TokenizerFileError,
  TokenizerInputError,
  UnknownModelTypeError,
  UnsupportedConfigError,
} from './errors.js';
export { folderFiles } from './folder-files.js';
export { ForwardStep, type ForwardStepOptions } from './forward-step.js';
export {
  type FromPretrainedOptions,
  fromPretrained,
  LOWER_PRECISION_DTYPES,
  type LowerPrecisionDtype,
  type Pretrained,
} from './from-pretrained.js';
export * from './gemma/index.js';
export * from './gemma2/index.js';
export { generationDefaults } from './generation-defaults.js';
export * from './gpt_neox/index.js';
export * from './gpt2/index.js';
export { type HubFilesOptions, hubFiles, MODEL_CACHE_NAME, type ModelFileCache } from './hub-files.js';
export { causalLMLoss, sequenceLoss, shiftTokensRight } from './language-model-loss.js';
export { createLayerCaches } from './layer-caches.js';
export { type LayerOutput, LayerStack, StackLayer, type StackOutput } from './layer-stack.js';
export * from './llama/index.js';
export type { LoadProgress, LoadProgressListener } from './load-progress.js';
export * from './marian/index.js';
export * from './mistral/index.js';
export type { ModelDescription, StackDescription } from './model-description.js';
export type {
  CreateModelOptions,
  FamilyLoadOptions,
  ModelFamily,
  PretrainedModel,
} from './model-family.js';
export { filesInMemory, type ModelFiles, readJsonFile } from './model-files.js';
export { openModelWeights } from './model-weights.js';
export * from './phi3/index.js';
export { keepLastPositions, PretrainedLanguageModel } from './pretrained-language-model.js';
export * from './qwen2/index.js';
export * from './qwen3/index.js';
export { type RotaryAngles, RotaryLayerStack, rotateQueryKey } from './rotary-layer-stack.js';
export { RotarySelfAttention } from './rotary-self-attention.js';
export {
  checkpointParameters,
  parseShardSize,
  type SavableModel,
  type SavedPretrained,
  type SavePretrainedOptions,
  savePretrained,
  TOKENIZER_FILE_NAMES,
} from './save-pretrained.js';
export { type AttentionLayerOutput, SelfAttention, type SelfAttentionOptions } from './self-attention.js';
export { Seq2SeqDecoderStep, type Seq2SeqDecoderStepOptions } from './seq2seq-decoder-step.js';
export {
  PretrainedSeq2SeqLM,
  type Seq2SeqConfig,
  type Seq2SeqForwardInput,
  type Seq2SeqForwardOutput,
} from './seq2seq-lm.js';
export * from './t5/index.js';
export {
  type DecodeOptions,
  type EncodeOptions,
  PretrainedTokenizer,
  type TokenizerLocations,
} from './tokenizer.js';
export type { TokenizerFileNames } from './tokenizer-json.js';
export * from './transformer/index.js';
