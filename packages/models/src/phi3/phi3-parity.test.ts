import { describeForwardParity } from '../../test/decoder-parity.js';
import { phi3 } from './index.js';

describeForwardParity('phi3', phi3);
