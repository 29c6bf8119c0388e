// Mutations of generation_config.json: wrong types and out-of-range values for each generation
// parameter, token ids outside the vocabulary. The command line (`--max-new-tokens 2`) overrides the
// length but not the file's mistakes: a bad value is an error naming the file and the field.
import {
  accept,
  contents,
  type Expectation,
  either,
  type Mutation,
  mutation,
  reject,
} from './corpus-case.js';
import { describeValue, type FieldValue, withField, withFields } from './json-edits.js';
import { jsonFileMutations } from './json-file-mutations.js';
import { fixtureJson, type SourceFolder } from './source-folders.js';

const FILE = 'generation_config.json';

export function generationConfigMutations(folder: SourceFolder): Mutation[] {
  const generation = fixtureJson(folder, FILE);
  const vocabSize = fixtureJson(folder, 'config.json').vocab_size as number;
  const set = (field: string, value: FieldValue, expect: Expectation = reject(FILE, field), label?: string) =>
    mutation(
      FILE,
      label ?? `${field} = ${describeValue(value)}`,
      contents(() => withField(generation, [field], value)),
      expect,
    );
  // Sampling parameters only act with do_sample: set both, so the bad value is the one in use.
  const sampling = (field: string, value: FieldValue, expect: Expectation = reject(FILE, field)) =>
    mutation(
      FILE,
      `do_sample = true, ${field} = ${describeValue(value)}`,
      contents(() => withFields(generation, { do_sample: true, [field]: value })),
      expect,
    );
  const outOfVocab = (field: string) => [
    set(field, vocabSize, reject(FILE, field), `${field} = vocab_size (${vocabSize})`),
    // Hugging Face loads pad_token_id -1 without complaint (old LLaMA folders ship it), and so does
    // decoding's generation config; it only fills the rows of a batch that finished, which a
    // one-prompt `generate` never has.
    set(field, -1, field === 'pad_token_id' ? either('baseline', FILE, field) : reject(FILE, field)),
    set(field, '1'),
    set(field, 1.5),
  ];
  const isSeq2Seq = 'decoder_start_token_id' in generation;
  return [
    ...jsonFileMutations(FILE, JSON.stringify(generation, null, 2)),
    set('max_length', 0),
    set('max_length', -1),
    set('max_length', '20'),
    set('max_length', 2.5),
    set('max_length', 1e308),
    set('max_length', true),
    set('max_length', null, accept()),
    set('max_new_tokens', -1),
    set('max_new_tokens', '5'),
    set('max_new_tokens', 2.5),
    set('min_length', -1),
    set('min_length', 'short'),
    set('min_new_tokens', -1),
    sampling('temperature', -1),
    sampling('temperature', 0),
    sampling('temperature', 'hot'),
    sampling('top_k', -1),
    sampling('top_k', 2.5),
    sampling('top_k', '5'),
    sampling('top_p', 0),
    sampling('top_p', 1.5),
    sampling('top_p', -0.1),
    sampling('top_p', '0.9'),
    sampling('typical_p', 2),
    sampling('top_k', 5, accept('any')),
    set('temperature', 'hot'),
    set('do_sample', 'yes'),
    set('do_sample', 1),
    set('num_beams', 0),
    set('num_beams', -1),
    set('num_beams', 2.5),
    set('num_beams', '2'),
    set('num_beams', 2, accept('any')),
    set('num_return_sequences', 0),
    set('num_return_sequences', 3, reject(FILE, /num_return_sequences|num_beams/)),
    set('repetition_penalty', 0),
    set('repetition_penalty', -1),
    set('repetition_penalty', 'x'),
    set('length_penalty', 'x'),
    set('no_repeat_ngram_size', -1),
    set('no_repeat_ngram_size', 1.5),
    ...outOfVocab('eos_token_id'),
    set('eos_token_id', [vocabSize], reject(FILE, 'eos_token_id'), 'eos_token_id = [vocab_size]'),
    set('eos_token_id', [], either('any', FILE, 'eos_token_id')),
    ...outOfVocab('pad_token_id'),
    set('bos_token_id', vocabSize, reject(FILE, 'bos_token_id'), `bos_token_id = vocab_size (${vocabSize})`),
    ...(isSeq2Seq ? [...outOfVocab('decoder_start_token_id'), ...outOfVocab('forced_eos_token_id')] : []),
    set(
      'forced_bos_token_id',
      vocabSize,
      reject(FILE, 'forced_bos_token_id'),
      `forced_bos_token_id = vocab_size (${vocabSize})`,
    ),
    set('suppress_tokens', [vocabSize], reject(FILE, 'suppress_tokens'), 'suppress_tokens = [vocab_size]'),
    set('suppress_tokens', 'none'),
    set(
      'begin_suppress_tokens',
      [vocabSize],
      reject(FILE, 'begin_suppress_tokens'),
      'begin_suppress_tokens = [vocab_size]',
    ),
    set('bad_words_ids', 'none'),
    set('bad_words_ids', [[vocabSize]], reject(FILE, 'bad_words_ids'), 'bad_words_ids = [[vocab_size]]'),
    set('bad_words_ids', [[]], either('baseline', FILE, 'bad_words_ids')),
    set('cache_implementation', 'bogus'),
    set('cache_implementation', 'static', accept()),
    set('output_scores', 'yes', either('baseline', FILE, 'output_scores')),
    set('stop_strings', 42, either('baseline', FILE, 'stop_strings')),
    set('_from_model_config', 'maybe', accept()),
    set('transformers_version', 5, accept()),
  ];
}
