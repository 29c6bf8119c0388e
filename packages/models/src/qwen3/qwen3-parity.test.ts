import { describeForwardParity } from '../../test/decoder-parity.js';
import { qwen3 } from './index.js';

describeForwardParity('qwen3', qwen3);
