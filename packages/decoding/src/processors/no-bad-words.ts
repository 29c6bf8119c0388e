import { tokenIdLists } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { SequenceBiasLogitsProcessor } from './sequence-bias.js';

/**
 * Forbids the listed token sequences: the last token of each gets -inf when the row ends with the
 * rest of it. A single EOS token is never forbidden (it is dropped from the list, as Hugging Face does).
 */
export class NoBadWordsLogitsProcessor extends SequenceBiasLogitsProcessor {
  constructor(badWordsIds: TokenRows, eosTokenIds: readonly number[] = []) {
    const field = { option: 'badWordsIds', hf: 'bad_words_ids' };
    const words = tokenIdLists(badWordsIds, field);
    const allowed = words.filter((word) => !(word.length === 1 && eosTokenIds.includes(word[0]!)));
    super(
      allowed.map((word) => [word, -Infinity] as const),
      field,
    );
  }
}
