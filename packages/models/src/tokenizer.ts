import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenDecoder } from '@tsformer/decoding';
import {
  type ChatMessage,
  ChatTemplate,
  ChatTemplateError,
  type ChatTemplateOptions,
  selectChatTemplate,
} from './chat-template.js';
import { type ModelFiles, readJsonFile } from './model-files.js';

/** The special-token fields of a `tokenizer_config.json` the templates and generation read. */
const SPECIAL_TOKEN_FIELDS = [
  'bos_token',
  'eos_token',
  'unk_token',
  'pad_token',
  'sep_token',
  'cls_token',
  'mask_token',
];

export interface EncodeOptions {
  /** Add the tokenizer's special tokens (BOS templates, ...): default true, as HF. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (default false, as HF). */
  skipSpecialTokens?: boolean;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`, run by
 * `@huggingface/tokenizers`) with the folder's chat template.
 */
export class PretrainedTokenizer implements TokenDecoder {
  private readonly tokenizer: Tokenizer;
  /** Special tokens by their config name (`bos_token` → `<|begin_of_text|>`). */
  readonly specialTokens: Readonly<Record<string, string>>;
  private readonly chatTemplate: ChatTemplate | null;

  constructor(
    tokenizerJson: object,
    tokenizerConfig: Readonly<Record<string, unknown>> = {},
    chatTemplate?: string,
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.specialTokens = Object.fromEntries(
      SPECIAL_TOKEN_FIELDS.flatMap((field) => {
        const token = tokenContent(tokenizerConfig[field]);
        return token === null ? [] : [[field, token]];
      }),
    );
    const template =
      chatTemplate ??
      (tokenizerConfig.chat_template === undefined
        ? undefined
        : selectChatTemplate(tokenizerConfig.chat_template));
    this.chatTemplate = template === undefined ? null : new ChatTemplate(template, this.specialTokens);
  }

  /**
   * The folder's tokenizer, or null when it has no `tokenizer.json`. The chat template comes from
   * `chat_template.jinja` when present (transformers ≥ 4.43 saves it there), else from `tokenizer_config.json`.
   */
  static async fromFiles(files: ModelFiles): Promise<PretrainedTokenizer | null> {
    if (!(await files.has('tokenizer.json'))) return null;
    const tokenizerJson = (await readJsonFile(files, 'tokenizer.json')) as object;
    const config = (await files.has('tokenizer_config.json'))
      ? ((await readJsonFile(files, 'tokenizer_config.json')) as Record<string, unknown>)
      : {};
    const template = (await files.has('chat_template.jinja'))
      ? await files.readText('chat_template.jinja')
      : undefined;
    return new PretrainedTokenizer(tokenizerJson, config, template);
  }

  /** Token ids of `text` (with the special tokens the tokenizer adds, unless told not to). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** The token strings of `text` (`Ġdog`, ...), special tokens included as `encode` adds them. */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).tokens;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** The id of a token string, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** The id of a special token by its config name (`eos_token`), or undefined. */
  specialTokenId(field: string): number | undefined {
    const token = this.specialTokens[field];
    return token === undefined ? undefined : this.tokenToId(token);
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** The conversation rendered by the chat template (HF `apply_chat_template(tokenize=False)`). */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.chatTemplate) {
      throw new ChatTemplateError(
        'this tokenizer has no chat template (tokenizer_config.json chat_template or chat_template.jinja)',
      );
    }
    return this.chatTemplate.render(messages, options);
  }

  /** The rendered conversation as ids: the template writes the special tokens, so none are added. */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }
}

/** A special token as tokenizer_config.json spells it: a string or an AddedToken dict `{content}`. */
function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return null;
}
