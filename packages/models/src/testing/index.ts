// Test support shared by every family's tests and by `tsformer check-parity`: the reference-folder
// format and float64 building blocks of independent reference forwards.
export {
  ACTIVATIONS,
  add,
  attend,
  type Checkpoint,
  conv1d,
  defaultInverseFrequencies,
  erf,
  layerNorm,
  linear,
  type Matrix,
  type ReferenceAttention,
  randomCheckpoint,
  rmsNorm,
  ropeRotation,
  silu,
  softcap,
} from './float64.js';
export { type HubLayoutServer, startHubLayoutServer } from './hub-layout-server.js';
export {
  DEFAULT_FORWARD_ATOL,
  type ForwardCase,
  type GenerateCase,
  type ReferenceJson,
  SEQUENCE_SCORES_ATOL,
  TIE_MARGIN,
  type TokenizationCase,
} from './reference-json.js';
