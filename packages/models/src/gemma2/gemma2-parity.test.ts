import { describeForwardParity } from '../../test/decoder-parity.js';
import { gemma2 } from './index.js';

describeForwardParity('gemma2', gemma2);
