export type * from './language-model.js';
