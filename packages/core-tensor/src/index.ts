export {
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  defaultBackendName,
  isBackendName,
  useBackend,
} from './backend.js';
export { BackendUnavailableError, TsformerError, WeightLoadingError } from './errors.js';
export { type LoadWeightsOptions, type LoadWeightsReport, Module, ModuleList } from './module.js';
export { Parameter, type ParameterOptions, sameShape } from './parameter.js';
export { SeededRandom } from './random.js';
export { type WeightSource, weightsFromTensors } from './weight-source.js';
