// What Hugging Face tokenizers (Rust, serde) refuses when it reads a tokenizer.json, checked before
// @huggingface/tokenizers sees the file: that library trusts its input, and a wrong type there is a
// TypeError deep inside it or, worse, a tokenizer that quietly maps text to the wrong ids.

/** Reports a problem with a field of tokenizer.json (`model.vocab`, `added_tokens.0.id`). */
export type TokenizerJsonFailure = (field: string, detail: string) => Error;

/** serde_json's recursion limit, which Hugging Face tokenizers reads tokenizer.json with. */
export const MAX_TOKENIZER_NESTING = 128;

/** The pipeline stages that nest (`Sequence` of `Sequence` of …). */
const NESTING_STAGES = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'];

/**
 * Checks the parts of a tokenizer.json that @huggingface/tokenizers would trust: the model's vocab
 * and merges for its type, every added token's id and content, and how deep each pipeline stage
 * nests. Throws `fail(field, detail)` for the first problem.
 */
export function checkTokenizerJson(
  tokenizerJson: Readonly<Record<string, unknown>>,
  fail: TokenizerJsonFailure,
): void {
  for (const stage of NESTING_STAGES) {
    if (nestsDeeperThan(tokenizerJson[stage], MAX_TOKENIZER_NESTING)) {
      throw fail(stage, `nests more than ${MAX_TOKENIZER_NESTING} deep (Hugging Face tokenizers' limit)`);
    }
  }
  checkModel(tokenizerJson.model as Readonly<Record<string, unknown>>, fail);
  const addedTokens = tokenizerJson.added_tokens;
  if (!Array.isArray(addedTokens)) return;
  for (const [index, token] of addedTokens.entries()) checkAddedToken(token, `added_tokens.${index}`, fail);
}

function checkModel(model: Readonly<Record<string, unknown>>, fail: TokenizerJsonFailure): void {
  const { type, vocab, merges } = model;
  if (type === 'Unigram') {
    if (!Array.isArray(vocab) || !vocab.every(isUnigramPiece)) {
      throw fail(
        'model.vocab',
        `must be a list of [token, score] pairs for a Unigram model, got ${kindOf(vocab)}`,
      );
    }
    return;
  }
  if (!isJsonObject(vocab)) {
    throw fail('model.vocab', `must be an object of token ids, got ${kindOf(vocab)}`);
  }
  for (const [token, id] of Object.entries(vocab)) {
    if (!isTokenId(id)) {
      throw fail(
        `model.vocab[${JSON.stringify(token)}]`,
        `must be a token id (an integer >= 0), got ${kindOf(id)}`,
      );
    }
  }
  const isBpe = type === 'BPE' || (type === undefined && 'merges' in model);
  if (!isBpe) return;
  if (!Array.isArray(merges) || !merges.every(isMerge)) {
    throw fail('model.merges', `must be a list of "a b" strings or [a, b] pairs, got ${kindOf(merges)}`);
  }
}

function checkAddedToken(token: unknown, field: string, fail: TokenizerJsonFailure): void {
  if (!isJsonObject(token))
    throw fail(field, `must be an object with an id and a content, got ${kindOf(token)}`);
  if (!isTokenId(token.id))
    throw fail(`${field}.id`, `must be a token id (an integer >= 0), got ${kindOf(token.id)}`);
  if (typeof token.content !== 'string') {
    throw fail(`${field}.content`, `must be a string, got ${kindOf(token.content)}`);
  }
}

/** Whether `value` nests arrays or objects more than `limit` deep (the recursion stops there). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  return Object.values(value).some((child) => nestsDeeperThan(child, limit - 1));
}

function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isUnigramPiece(value: unknown): boolean {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number'
  );
}

/** A BPE merge: `"a b"` (one space) or `["a", "b"]`. */
function isMerge(value: unknown): boolean {
  if (typeof value === 'string') return value.split(' ').length === 2;
  return Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string');
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value's kind for messages, cut short: `null`, `a list`, `string "vocab"`. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
