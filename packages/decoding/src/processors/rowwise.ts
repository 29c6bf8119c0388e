import type { LogitsProcessor } from './logits-processor.js';

/**
 * A processor whose effect on a row depends only on that row's scores and its own settings, never on
 * the row's tokens (temperature and the sampling warpers). `rowwiseKey` names the class and every
 * setting: rows of different requests whose processors have equal keys can be processed together,
 * as one batch (the batching scheduler does so).
 */
export interface RowwiseProcessor extends LogitsProcessor {
  readonly rowwiseKey: string;
}

export function isRowwiseProcessor(processor: LogitsProcessor): processor is RowwiseProcessor {
  return typeof (processor as Partial<RowwiseProcessor>).rowwiseKey === 'string';
}
