export {
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
  defaultBackendName,
  ensureBackend,
  isBackendName,
  useBackend,
} from './backend.js';
export {
  CONFIG_SIZE_LIMITS,
  ConfigFields,
  type ConfigFieldsOptions,
  copyFieldValue,
  describeFieldValue,
  type FieldRule,
  fieldRule,
  fieldRules,
  type RawConfig,
  type SizeKind,
} from './config-fields.js';
export {
  BackendUnavailableError,
  ConfigFieldError,
  FileAccessError,
  type PathKind,
  SafetensorsError,
  TsformerError,
  WeightLoadingError,
} from './errors.js';
export { withFile } from './file-context.js';
export { enableGradients, gradientsEnabled } from './gradients-support.js';
export {
  type LoadWeightsOptions,
  type LoadWeightsReport,
  type MisShapedTensor,
  Module,
  ModuleList,
  type TrainOptions,
} from './module.js';
export { matchesName, type NamePattern } from './name-pattern.js';
export {
  inspectPath,
  type PathInfo,
  readTextFile,
  requireDirectory,
  requireRegularFile,
  writeFolderFile,
} from './node-files.js';
export {
  type DerivedLayout,
  Parameter,
  type ParameterOptions,
  type RestorableLayout,
  sameShape,
} from './parameter.js';
export { SeededRandom } from './random.js';
export { type ByteSource, memoryByteSource } from './safetensors/byte-source.js';
export type { RawTensor, SafetensorsTypedArray } from './safetensors/decode.js';
export { bytesPerElement, SAFETENSORS_DTYPES, type SafetensorsDtype } from './safetensors/dtypes.js';
export type { SafetensorsTensorData } from './safetensors/encode.js';
export { MAX_HEADER_BYTES, type SafetensorsTensorInfo } from './safetensors/header.js';
export {
  DEFAULT_MAX_SHARD_BYTES,
  fileByteSource,
  openSafetensors,
  type SavedSafetensorsFolder,
  type SaveSafetensorsFolderOptions,
  saveSafetensors,
  saveSafetensorsFolder,
} from './safetensors/node.js';
export { openSafetensorsBytes, SafetensorsFile } from './safetensors/safetensors-file.js';
export type { SafetensorsReader } from './safetensors/safetensors-reader.js';
export { type SafetensorsInput, serializeSafetensors } from './safetensors/serialize.js';
export { SAFETENSORS_INDEX_NAME, ShardedSafetensors } from './safetensors/sharded-safetensors.js';
export { type WeightSource, weightsFromTensors } from './weight-source.js';
