import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerFileError } from './errors.js';
import { checkTokenizerJson, isJsonObject, kindOf } from './tokenizer-json-checks.js';

/** Where the two tokenizer files came from, for messages. */
export interface TokenizerFileNames {
  tokenizerJson: string;
  tokenizerConfig: string;
}

/** The tokenizer models of Hugging Face tokenizers (`model.type`). */
const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

/** Pipeline stages Hugging Face tokenizers may leave out of tokenizer.json (it reads them as none). */
const OPTIONAL_STAGES = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null };

/** How @huggingface/tokenizers names each stage when it meets a type it does not know. */
const STAGE_NAMES: Record<string, string> = {
  Normalizer: 'normalizer',
  PreTokenizer: 'pre_tokenizer',
  PostProcessor: 'post_processor',
  Decoder: 'decoder',
};

/**
 * Builds the `@huggingface/tokenizers` tokenizer of a tokenizer.json and tokenizer_config.json.
 * What Hugging Face tokenizers accepts is accepted (stages and `added_tokens` may be absent);
 * everything else — an unknown model, normalizer, pre-tokenizer, post-processor or decoder type,
 * a missing model, a vocab, merges or added token of the wrong type, a stage nested past Hugging
 * Face's limit — is a TokenizerFileError naming the file and the field. Nothing is mutated.
 */
export function createTokenizer(
  tokenizerJson: unknown,
  config: unknown,
  files: TokenizerFileNames,
): Tokenizer {
  const fail = (field: string | undefined, detail: string) =>
    new TokenizerFileError(files.tokenizerJson, field, detail);
  if (!isJsonObject(config)) {
    throw new TokenizerFileError(
      files.tokenizerConfig,
      undefined,
      `must be a JSON object, got ${kindOf(config)}`,
    );
  }
  if (!isJsonObject(tokenizerJson))
    throw fail(undefined, `must be a JSON object, got ${kindOf(tokenizerJson)}`);
  const { version, model, added_tokens: addedTokens = [] } = tokenizerJson;
  if (version !== undefined && version !== '1.0') {
    throw fail('version', `unknown tokenizer.json version ${JSON.stringify(version)} (1.0 is known)`);
  }
  if (!isJsonObject(model)) throw fail('model', `must be an object, got ${kindOf(model)}`);
  if (model.type !== undefined && !MODEL_TYPES.includes(model.type as string)) {
    throw fail(
      'model.type',
      `unknown tokenizer model type ${JSON.stringify(model.type)} (known: ${MODEL_TYPES.join(', ')})`,
    );
  }
  if (!('vocab' in model)) throw fail('model.vocab', 'is missing');
  if (!Array.isArray(addedTokens)) throw fail('added_tokens', `must be a list, got ${kindOf(addedTokens)}`);
  checkTokenizerJson(tokenizerJson, fail);
  try {
    return new Tokenizer({ ...OPTIONAL_STAGES, ...tokenizerJson, added_tokens: addedTokens }, config);
  } catch (error) {
    throw libraryError(error, tokenizerJson, fail);
  }
}

/** The library's error as a TokenizerFileError, naming the field it is about when it can be found. */
function libraryError(
  error: unknown,
  tokenizerJson: Record<string, unknown>,
  fail: (field: string | undefined, detail: string) => TokenizerFileError,
): TokenizerFileError {
  const message = String((error as Error)?.message ?? error)
    .replaceAll(/\s+/g, ' ')
    .slice(0, 300);
  const unknownType = /^Unknown (\w+) type: (.*)$/.exec(message);
  const stage = unknownType ? STAGE_NAMES[unknownType[1]!] : undefined;
  if (unknownType && stage) {
    const type = unknownType[2]!;
    const field = pathToType(tokenizerJson[stage], type, stage) ?? stage;
    return fail(field, `unknown ${stage.replace('_', '-')} type ${JSON.stringify(type)}`);
  }
  return fail(undefined, `@huggingface/tokenizers cannot load it: ${message}`);
}

/** The path (`decoder.decoders.1.type`) of the first `type` field equal to `type` under `value`. */
function pathToType(value: unknown, type: string, path: string, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 32) return undefined;
  if (String((value as { type?: unknown }).type) === type) return `${path}.type`;
  for (const [key, child] of Object.entries(value)) {
    const found = pathToType(child, type, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}
