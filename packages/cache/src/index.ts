export type { Cache, KeyValueBlocks, LayerCache } from './cache-types.js';
