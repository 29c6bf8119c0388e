import { describeForwardParity } from '../../test/decoder-parity.js';
import { llama } from './index.js';

describeForwardParity('llama', llama);
describeForwardParity('tiny-llama-docs', llama);
