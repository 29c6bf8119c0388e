import { beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, type DecoderFixtureName, readDecoderReference } from '../test/decoder-fixtures.js';
import { ChatTemplateError, TokenizerFileError, TokenizerInputError } from './errors.js';
import { folderFiles } from './folder-files.js';
import { filesInMemory } from './model-files.js';
import { PretrainedTokenizer } from './tokenizer.js';

describe.each(Object.keys(DECODER_FIXTURES) as DecoderFixtureName[])('the %s tokenizer', (fixture) => {
  const cases = readDecoderReference(fixture).tokenization;

  it('encodes, tokenizes and decodes every reference text as Hugging Face does', async () => {
    const tokenizer = (await PretrainedTokenizer.fromFiles(folderFiles(DECODER_FIXTURES[fixture])))!;
    for (const { text, ids, tokens, decoded } of cases) {
      expect(tokenizer.encode(text)).toEqual(ids);
      expect(tokenizer.tokenize(text)).toEqual(tokens);
      expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(decoded);
    }
  });
});

describe('PretrainedTokenizer', () => {
  it('adds the BOS template unless told not to, and keeps special tokens when decoding by default', async () => {
    const tokenizer = (await PretrainedTokenizer.fromFiles(folderFiles(DECODER_FIXTURES.llama)))!;
    const bos = tokenizer.specialTokenId('bos_token');
    expect(bos).toBe(0);
    const withBos = tokenizer.encode('Hello');
    expect(withBos[0]).toBe(bos);
    expect(tokenizer.encode('Hello', { addSpecialTokens: false })).toEqual(withBos.slice(1));
    expect(tokenizer.decode(withBos)).toBe('<|begin_of_text|>Hello');
  });

  it('is null for a folder without tokenizer.json', async () => {
    expect(await PretrainedTokenizer.fromFiles(filesInMemory({ 'config.json': '{}' }))).toBeNull();
  });
});

const chatml =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const withBosToken =
  '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}';

/** The gpt2 fixture's tokenizer with a chat template from `config`. */
async function tokenizerWith(config: Record<string, unknown>, jinja?: string): Promise<PretrainedTokenizer> {
  const files = folderFiles(DECODER_FIXTURES.gpt2);
  return new PretrainedTokenizer(JSON.parse(await files.readText('tokenizer.json')), config, jinja);
}

describe('chat templates', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi!' },
  ];

  it('renders tokenizer_config.json chat_template with the messages and the generation prompt', async () => {
    const tokenizer = await tokenizerWith({ chat_template: chatml });
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tokenizer.applyChatTemplate(messages)).not.toContain('assistant');
  });

  it('gives the template the special tokens, and encodes the result without adding more', async () => {
    const tokenizer = await tokenizerWith(
      { eos_token: { content: '<|endoftext|>' }, bos_token: '<|endoftext|>' },
      withBosToken,
    );
    const text = tokenizer.applyChatTemplate(messages);
    expect(text).toBe('<|endoftext|>[system] Be brief.<|endoftext|>[user] Hi!<|endoftext|>');
    expect(tokenizer.encodeChat(messages)).toEqual(tokenizer.encode(text, { addSpecialTokens: false }));
    expect(tokenizer.encodeChat(messages).filter((id) => id === 50256)).toHaveLength(3);
  });

  it('picks the default of a list of named templates', async () => {
    const tokenizer = await tokenizerWith({
      chat_template: [
        { name: 'tool_use', template: 'tools' },
        { name: 'default', template: '{{ messages[0].content }}' },
      ],
    });
    expect(tokenizer.applyChatTemplate(messages)).toBe('Be brief.');
  });

  it('says so when there is no template, or when it fails', async () => {
    const none = await tokenizerWith({});
    expect(none.hasChatTemplate).toBe(false);
    expect(() => none.applyChatTemplate(messages)).toThrow(ChatTemplateError);
    const raising = await tokenizerWith({ chat_template: "{{ raise_exception('only user turns') }}" });
    expect(() => raising.applyChatTemplate(messages)).toThrow(/failed to render: only user turns/);
    const unnamed = await tokenizerWith({ chat_template: [{ name: 'other', template: 'x' }] });
    expect(() => unnamed.applyChatTemplate(messages)).toThrow(/no chat template named "default"/);
  });

  it('compiles the template on first use: a broken one loads, and fails only in chat, naming its file', async () => {
    const files = filesInMemory(
      {
        'tokenizer.json': await folderFiles(DECODER_FIXTURES.gpt2).readText('tokenizer.json'),
        'tokenizer_config.json': JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }' }),
      },
      'broken',
    );
    const tokenizer = (await PretrainedTokenizer.fromFiles(files))!;
    expect(tokenizer.encode('Hello')).toEqual([15496]);
    expect(tokenizer.hasChatTemplate).toBe(true);
    const error = (() => {
      try {
        tokenizer.applyChatTemplate(messages);
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(ChatTemplateError);
    expect(error!.message).toMatch(/^broken\/tokenizer_config\.json chat_template does not parse: /);
    expect(error!.message).not.toContain('\n');
    const jinja = await tokenizerWith({}, '{{ unclosed');
    expect(() => jinja.encodeChat(messages)).toThrow(/^chat_template\.jinja does not parse/);
    const notText = await tokenizerWith({ chat_template: 42 });
    expect(() => notText.applyChatTemplate(messages)).toThrow(
      /tokenizer_config\.json: chat_template must be a string or a list/,
    );
  });
});

describe('PretrainedTokenizer.decode', () => {
  it('decodes no ids as an empty text, as HF, and refuses ids that are not token ids', async () => {
    const tokenizer = await tokenizerWith({});
    expect(tokenizer.decode([])).toBe('');
    for (const ids of [[1.5], [15496, -1], [Number.NaN]]) {
      expect(() => tokenizer.decode(ids)).toThrow(TokenizerInputError);
    }
    expect(() => tokenizer.decode([15496, -1])).toThrow(
      'decode: token id -1 at index 1 is not a non-negative integer',
    );
    expect(() => tokenizer.encode(7 as unknown as string)).toThrow(TokenizerInputError);
  });
});

/** `inner` wrapped in `depth` pre-tokenizer Sequences, built without recursion. */
function nestedSequence(depth: number, inner: unknown): unknown {
  let value = inner;
  for (let level = 0; level < depth; level++) value = { type: 'Sequence', pretokenizers: [value] };
  return value;
}

describe('a tokenizer.json or tokenizer_config.json that cannot be used', () => {
  let fixture: Record<string, unknown>;
  const FILE = 'model/tokenizer.json';
  const load = (json: unknown, config: unknown = {}) =>
    new PretrainedTokenizer(json, config as Record<string, unknown>, undefined, {
      tokenizerJson: FILE,
      tokenizerConfig: 'model/tokenizer_config.json',
    });
  const without = (field: string) =>
    Object.fromEntries(Object.entries(fixture).filter(([key]) => key !== field));

  beforeAll(async () => {
    fixture = JSON.parse(await folderFiles(DECODER_FIXTURES.gpt2).readText('tokenizer.json'));
  });

  const cases: [string, () => [unknown, unknown?], string][] = [
    [
      'an unknown decoder',
      () => [{ ...fixture, decoder: { type: 'Bogus' } }],
      'decoder.type: unknown decoder type "Bogus"',
    ],
    [
      'an unknown decoder inside a Sequence',
      () => [{ ...fixture, decoder: { type: 'Sequence', decoders: [{ type: 'Fuse' }, { type: 'Bogus' }] } }],
      'decoder.decoders.1.type: unknown decoder type "Bogus"',
    ],
    [
      'an unknown normalizer',
      () => [{ ...fixture, normalizer: { type: 'Bogus' } }],
      'normalizer.type: unknown normalizer type "Bogus"',
    ],
    [
      'an unknown pre-tokenizer',
      () => [{ ...fixture, pre_tokenizer: { type: 'Bogus' } }],
      'pre_tokenizer.type: unknown pre-tokenizer type "Bogus"',
    ],
    [
      'an unknown post-processor',
      () => [{ ...fixture, post_processor: { type: 'Bogus' } }],
      'post_processor.type: unknown post-processor type "Bogus"',
    ],
    [
      'an unknown model type (which @huggingface/tokenizers alone accepts)',
      () => [{ ...fixture, model: { ...(fixture.model as object), type: 'Bogus' } }],
      'model.type: unknown tokenizer model type "Bogus" (known: BPE, WordPiece, WordLevel, Unigram)',
    ],
    ['no model', () => [without('model')], 'model: must be an object, got nothing'],
    [
      'a model without vocab',
      () => [{ ...fixture, model: { type: 'BPE', merges: [] } }],
      'model.vocab: is missing',
    ],
    [
      'added_tokens that are not a list',
      () => [{ ...fixture, added_tokens: {} }],
      'added_tokens: must be a list, got an object',
    ],
    [
      'an unknown version',
      () => [{ ...fixture, version: '2.0' }],
      'version: unknown tokenizer.json version "2.0"',
    ],
    ['a list instead of an object', () => [[fixture]], 'must be a JSON object, got a list'],
    ['null', () => [null], 'must be a JSON object, got null'],
    [
      'a BPE model whose merges are not a list',
      () => [{ ...fixture, model: { ...(fixture.model as object), merges: 7 } }],
      'model.merges: must be a list of "a b" strings or [a, b] pairs, got number 7',
    ],
    [
      'merges of numbers',
      () => [{ ...fixture, model: { ...(fixture.model as object), merges: [[1, 2]] } }],
      'model.merges: must be a list of "a b" strings or [a, b] pairs, got a list',
    ],
    [
      'a vocab that is a list',
      () => [{ ...fixture, model: { ...(fixture.model as object), vocab: [] } }],
      'model.vocab: must be an object of token ids, got a list',
    ],
    [
      'a vocab entry that is not an id',
      () => [{ ...fixture, model: { ...(fixture.model as object), vocab: { a: 0, b: 'one' } } }],
      'model.vocab["b"]: must be a token id (an integer >= 0), got string "one"',
    ],
    [
      'a Unigram model with a BPE vocab',
      () => [{ ...fixture, model: { ...(fixture.model as object), type: 'Unigram' } }],
      'model.vocab: must be a list of [token, score] pairs for a Unigram model, got an object',
    ],
    [
      'an added token with a string id',
      () => [{ ...fixture, added_tokens: [{ id: '0', content: '<x>', special: true }] }],
      'added_tokens.0.id: must be a token id (an integer >= 0), got string "0"',
    ],
    [
      'an added token whose content is not text',
      () => [{ ...fixture, added_tokens: [{ id: 0, content: 5, special: true }] }],
      'added_tokens.0.content: must be a string, got number 5',
    ],
    [
      // @huggingface/tokenizers recurses through Sequences: 10,000 deep overflowed its stack.
      'a pre-tokenizer Sequence nested 10,000 deep',
      () => [{ ...fixture, pre_tokenizer: nestedSequence(10_000, fixture.pre_tokenizer) }],
      "pre_tokenizer: nests more than 128 deep (Hugging Face tokenizers' limit)",
    ],
  ];

  for (const [what, make, message] of cases) {
    it(`names the file and field: ${what}`, () => {
      const [json] = make();
      const error = (() => {
        try {
          load(json);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(TokenizerFileError);
      expect((error as Error).message).toContain(`${FILE}: ${message}`);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('names tokenizer_config.json when it is not an object', () => {
    expect(() => load(fixture, null)).toThrow('model/tokenizer_config.json: must be a JSON object, got null');
    expect(() => load(fixture, ['x'])).toThrow(TokenizerFileError);
  });

  it('accepts what Hugging Face tokenizers accepts: stages and added_tokens left out, model.type left out', () => {
    const reference = load(fixture);
    const minimal = load({
      model: Object.fromEntries(Object.entries(fixture.model as object).filter(([key]) => key !== 'type')),
      pre_tokenizer: fixture.pre_tokenizer,
      decoder: fixture.decoder,
    });
    const text = 'Hello, my dog is cute and';
    expect(minimal.encode(text)).toEqual(reference.encode(text));
    expect(minimal.decode(minimal.encode(text))).toBe(text);
  });

  it('accepts a pre-tokenizer Sequence nested within the limit, tokenizing as the plain one', () => {
    const text = 'Hello, my dog is cute and';
    const nested = load({ ...fixture, pre_tokenizer: nestedSequence(40, fixture.pre_tokenizer) });
    expect(nested.encode(text)).toEqual(load(fixture).encode(text));
  });

  it('does not change the objects it is given', () => {
    const json = structuredClone(fixture);
    const config = { eos_token: '<|endoftext|>' };
    load(json, config);
    expect(json).toEqual(fixture);
    expect(config).toEqual({ eos_token: '<|endoftext|>' });
  });
});
