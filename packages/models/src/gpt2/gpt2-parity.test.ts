import { describeForwardParity } from '../../test/decoder-parity.js';
import { gpt2 } from './index.js';

describeForwardParity('gpt2', gpt2);
