// Mutations of tokenizer.json (unknown model, decoder, normalizer, pre-tokenizer and post-processor
// types; wrong types for the vocabulary, merges and added tokens; truncation), tokenizer_config.json
// and the chat template, which only `chat` needs: a broken one must not stop `generate`.
import {
  accept,
  contents,
  type Expectation,
  either,
  type Mutation,
  mutation,
  reject,
} from './corpus-case.js';
import { describeValue, type FieldValue, MISSING, type RawJson, raw, withField } from './json-edits.js';
import { DEEP_NESTING, jsonFileMutations } from './json-file-mutations.js';
import { fixtureBytes, fixtureJson, type SourceFolder } from './source-folders.js';

const TOKENIZER = 'tokenizer.json';
const TOKENIZER_CONFIG = 'tokenizer_config.json';

/** Mutations of tokenizer.json. */
export function tokenizerMutations(folder: SourceFolder): Mutation[] {
  const tokenizer = fixtureJson(folder, TOKENIZER);
  const set = (path: string[], value: FieldValue, expect: Expectation, label?: string) =>
    mutation(
      TOKENIZER,
      label ?? `${path.join('.')} = ${describeValue(value)}`,
      contents(() => withField(tokenizer, path, value)),
      expect,
    );
  const bad = (field: string) => reject(TOKENIZER, field);
  const model = tokenizer.model as { vocab: Record<string, number> };
  const [firstToken] = Object.keys(model.vocab);
  return [
    ...jsonFileMutations(TOKENIZER, new TextDecoder().decode(fixtureBytes(folder, TOKENIZER))),
    set(['model'], MISSING, bad('model')),
    set(['model'], 'BPE', bad('model')),
    set(['model'], [], bad('model')),
    set(['model'], null, bad('model')),
    set(['model', 'type'], 'Bogus', bad('model')),
    set(['model', 'type'], 42, bad('model')),
    set(['model', 'type'], null, either('any', TOKENIZER, 'model')),
    set(['model', 'type'], MISSING, either('any', TOKENIZER, 'model')),
    set(['model', 'type'], 'Unigram', either('any', TOKENIZER, 'model')),
    set(['model', 'type'], 'WordLevel', either('any', TOKENIZER, 'model')),
    set(['model', 'vocab'], [], bad('vocab')),
    set(['model', 'vocab'], 'vocab', bad('vocab')),
    set(['model', 'vocab'], null, bad('vocab')),
    set(['model', 'vocab'], {}, either('any', TOKENIZER, 'vocab')),
    set(
      ['model', 'vocab', firstToken!],
      'zero',
      bad('vocab'),
      `model.vocab[${JSON.stringify(firstToken)}] = "zero"`,
    ),
    set(
      ['model', 'vocab', firstToken!],
      -1,
      either('any', TOKENIZER, 'vocab'),
      `model.vocab[${JSON.stringify(firstToken)}] = -1`,
    ),
    set(['model', 'merges'], 'merges', bad('merges')),
    set(['model', 'merges'], 42, bad('merges')),
    set(['model', 'merges'], [[1, 2]], bad('merges')),
    set(['model', 'merges'], [], accept('any')),
    set(['model', 'merges'], MISSING, either('any', TOKENIZER, 'merges')),
    set(['decoder'], { type: 'Bogus' }, bad('decoder')),
    set(['decoder'], 42, bad('decoder')),
    set(['decoder'], [], bad('decoder')),
    set(['decoder'], {}, bad('decoder')),
    set(['decoder'], null, accept('any')),
    set(['normalizer'], { type: 'Bogus' }, bad('normalizer')),
    set(['normalizer'], 42, bad('normalizer')),
    set(['normalizer'], { type: 'Lowercase' }, accept('any')),
    set(['pre_tokenizer'], { type: 'Bogus' }, bad('pre_tokenizer')),
    set(['pre_tokenizer'], 'ByteLevel', bad('pre_tokenizer')),
    set(['pre_tokenizer'], null, either('any', TOKENIZER, 'pre_tokenizer')),
    set(
      ['pre_tokenizer'],
      nestedSequence(DEEP_NESTING / 10),
      either('any', TOKENIZER, 'pre_tokenizer'),
      `pre_tokenizer = Sequence nested ${DEEP_NESTING / 10} deep`,
    ),
    set(['post_processor'], { type: 'Bogus' }, bad('post_processor')),
    set(['post_processor'], 42, bad('post_processor')),
    set(['post_processor'], null, accept('any')),
    set(['added_tokens'], 'tokens', bad('added_tokens')),
    set(['added_tokens'], [42], bad('added_tokens')),
    set(['added_tokens'], [{ id: '0', content: '<x>', special: true }], bad('added_tokens')),
    set(['added_tokens'], [{ id: 0, content: 5, special: true }], bad('added_tokens')),
    set(['added_tokens'], null, either('any', TOKENIZER, 'added_tokens')),
    set(['truncation'], 'yes', either('baseline', TOKENIZER, 'truncation')),
    set(['padding'], { strategy: 'Bogus' }, either('baseline', TOKENIZER, 'padding')),
    set(['version'], '2.0', either('baseline', TOKENIZER, 'version')),
  ];
}

/** `{"type":"Sequence","pretokenizers":[...]}` nested `depth` deep around a ByteLevel pre-tokenizer (as text). */
function nestedSequence(depth: number): RawJson {
  const byteLevel = '{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}';
  return raw(`${'{"type":"Sequence","pretokenizers":['.repeat(depth)}${byteLevel}${']}'.repeat(depth)}`);
}

/** tokenizer_config.json and the chat template: `generate` reads the special tokens, never the template. */
export function tokenizerConfigMutations(folder: SourceFolder): Mutation[] {
  const config = fixtureJson(folder, TOKENIZER_CONFIG);
  const set = (field: string, value: FieldValue, expect: Expectation) =>
    mutation(
      TOKENIZER_CONFIG,
      `${field} = ${describeValue(value)}`,
      contents(() => withField(config, [field], value)),
      expect,
    );
  const lenient = (field: string) => either('baseline', TOKENIZER_CONFIG, field);
  return [
    ...jsonFileMutations(TOKENIZER_CONFIG, JSON.stringify(config, null, 2)),
    set('chat_template', '{% if messages %}never closed', accept()),
    set('chat_template', '{{ messages[0]["content"] ', accept()),
    set('chat_template', [{ name: 'default', template: '{% for %}' }], accept()),
    set('chat_template', 42, lenient('chat_template')),
    set('chat_template', [{ name: 'default' }], lenient('chat_template')),
    set('chat_template', [], lenient('chat_template')),
    set('bos_token', 42, either('any', TOKENIZER_CONFIG, 'bos_token')),
    set('eos_token', { content: 5 }, either('any', TOKENIZER_CONFIG, 'eos_token')),
    set('eos_token', '<not-a-token>', either('any', TOKENIZER_CONFIG, 'eos_token')),
    set('model_max_length', 'long', lenient('model_max_length')),
    set('model_max_length', -1, lenient('model_max_length')),
    set('added_tokens_decoder', 'tokens', lenient('added_tokens_decoder')),
    set('added_tokens_decoder', { 0: 5 }, lenient('added_tokens_decoder')),
    mutation(
      'chat_template.jinja',
      'chat_template.jinja that does not parse',
      contents(() => '{% for message in messages %}{{ message.content }'),
      accept(),
    ),
    mutation(
      'chat_template.jinja',
      'chat_template.jinja that is empty',
      contents(() => ''),
      accept(),
    ),
  ];
}
