import { describeForwardParity } from '../../test/decoder-parity.js';
import { gptNeox } from './index.js';

describeForwardParity('gpt_neox', gptNeox);
