import type { Tokenizer } from '@huggingface/tokenizers';
import type { TokenDecoder } from '@tsformer/decoding';
import {
  type ChatMessage,
  ChatTemplate,
  type ChatTemplateOptions,
  selectChatTemplate,
} from './chat-template.js';
import { ChatTemplateError, TokenizerFileError, TokenizerInputError } from './errors.js';
import { type ModelFiles, readJsonFile } from './model-files.js';
import { createTokenizer, type TokenizerFileNames } from './tokenizer-json.js';

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

/** Where each tokenizer file came from, for messages (defaults: the bare file names). */
export interface TokenizerLocations extends TokenizerFileNames {
  /** Where the `chatTemplate` argument came from (default: `chat_template.jinja`). */
  chatTemplate: string;
}

/** A chat template not compiled yet: its text, or tokenizer_config.json's entry to pick it from. */
interface PendingChatTemplate {
  entry: unknown;
  location: string;
  /** The config file, when `entry` is its `chat_template` (a string or a list of named templates). */
  configFile?: string;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`, run by
 * `@huggingface/tokenizers`) with the folder's chat template. The template is compiled on its first
 * use, so a broken one stops chat (with a ChatTemplateError naming its file), never plain loading.
 */
export class PretrainedTokenizer implements TokenDecoder {
  private readonly tokenizer: Tokenizer;
  /** Special tokens by their config name (`bos_token` → `<|begin_of_text|>`). */
  readonly specialTokens: Readonly<Record<string, string>>;
  private readonly pendingChatTemplate: PendingChatTemplate | null;
  private compiledChatTemplate: ChatTemplate | undefined;
  private readonly tokenizerJsonLocation: string;

  /**
   * `tokenizerJson` and `tokenizerConfig` are the parsed files; `chatTemplate` a template's text
   * that wins over tokenizer_config.json's `chat_template`. Problems with the files are
   * TokenizerFileErrors naming the file (as `locations` gives it) and the field.
   */
  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: Readonly<Record<string, unknown>> = {},
    chatTemplate?: string,
    locations: Partial<TokenizerLocations> = {},
  ) {
    const files: TokenizerLocations = {
      tokenizerJson: 'tokenizer.json',
      tokenizerConfig: 'tokenizer_config.json',
      chatTemplate: 'chat_template.jinja',
      ...locations,
    };
    this.tokenizer = createTokenizer(tokenizerJson, tokenizerConfig, files);
    this.tokenizerJsonLocation = files.tokenizerJson;
    this.specialTokens = Object.fromEntries(
      SPECIAL_TOKEN_FIELDS.flatMap((field) => {
        const token = tokenContent(tokenizerConfig[field]);
        return token === null ? [] : [[field, token]];
      }),
    );
    this.pendingChatTemplate =
      chatTemplate !== undefined
        ? { entry: chatTemplate, location: files.chatTemplate }
        : tokenizerConfig.chat_template === undefined || tokenizerConfig.chat_template === null
          ? null
          : {
              entry: tokenizerConfig.chat_template,
              location: `${files.tokenizerConfig} chat_template`,
              configFile: files.tokenizerConfig,
            };
  }

  /**
   * The folder's tokenizer, or null when it has no `tokenizer.json`. The chat template comes from
   * `chat_template.jinja` when present (transformers ≥ 4.43 saves it there), else from `tokenizer_config.json`.
   */
  static async fromFiles(files: ModelFiles): Promise<PretrainedTokenizer | null> {
    if (!(await files.has('tokenizer.json'))) return null;
    const tokenizerJson = await readJsonFile(files, 'tokenizer.json');
    const config = (await files.has('tokenizer_config.json'))
      ? await readJsonFile(files, 'tokenizer_config.json')
      : {};
    const template = (await files.has('chat_template.jinja'))
      ? await files.readText('chat_template.jinja')
      : undefined;
    // The constructor checks that the config is a JSON object, naming the file when it is not.
    return new PretrainedTokenizer(tokenizerJson, config as Record<string, unknown>, template, {
      tokenizerJson: files.path('tokenizer.json'),
      tokenizerConfig: files.path('tokenizer_config.json'),
      chatTemplate: files.path('chat_template.jinja'),
    });
  }

  /** Token ids of `text` (with the special tokens the tokenizer adds, unless told not to). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encoding(text, options).ids;
  }

  /** The token strings of `text` (`Ġdog`, ...), special tokens included as `encode` adds them. */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    return this.encoding(text, options).tokens;
  }

  private encoding(text: string, options: EncodeOptions): { ids: number[]; tokens: string[] } {
    if (typeof text !== 'string')
      throw new TokenizerInputError(`encode: the text is ${typeof text}, not a string`);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    return this.run(() => this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }));
  }

  /** The text of `ids` (an empty list is an empty text, as HF); every id must be a non-negative integer. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const bad = ids.findIndex((id) => !Number.isSafeInteger(id) || id < 0);
    if (bad >= 0) {
      throw new TokenizerInputError(
        `decode: token id ${String(ids[bad])} at index ${bad} is not a non-negative integer`,
      );
    }
    if (ids.length === 0) return '';
    const skipSpecialTokens = options.skipSpecialTokens ?? false;
    return this.run(() => this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens }));
  }

  /**
   * Runs the tokenizer library. Input is checked before, so an error it throws means tokenizer.json
   * is broken in a way loading could not see: a TokenizerFileError naming the file.
   */
  private run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const message = String((error as Error)?.message ?? error).replaceAll(/\s+/g, ' ');
      throw new TokenizerFileError(
        this.tokenizerJsonLocation,
        undefined,
        `@huggingface/tokenizers failed on it: ${message}`,
      );
    }
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

  /** Whether the folder has a chat template (it is compiled, and can fail, on first use). */
  get hasChatTemplate(): boolean {
    return this.pendingChatTemplate !== null;
  }

  /** The conversation rendered by the chat template (HF `apply_chat_template(tokenize=False)`). */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return this.chatTemplate().render(messages, options);
  }

  /** The rendered conversation as ids: the template writes the special tokens, so none are added. */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }

  /** The chat template, compiled the first time it is needed. */
  private chatTemplate(): ChatTemplate {
    if (this.compiledChatTemplate) return this.compiledChatTemplate;
    const pending = this.pendingChatTemplate;
    if (!pending) {
      throw new ChatTemplateError(
        'this tokenizer has no chat template (tokenizer_config.json chat_template or chat_template.jinja)',
      );
    }
    const source =
      pending.configFile === undefined
        ? (pending.entry as string)
        : selectChatTemplate(pending.entry, 'default', pending.configFile);
    this.compiledChatTemplate = new ChatTemplate(source, this.specialTokens, pending.location);
    return this.compiledChatTemplate;
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
