import { describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, type DecoderFixtureName, readDecoderReference } from '../test/decoder-fixtures.js';
import { ChatTemplateError } from './chat-template.js';
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
    await expect(tokenizerWith({ chat_template: [{ name: 'other', template: 'x' }] })).rejects.toThrow(
      /no chat template named "default"/,
    );
  });
});
