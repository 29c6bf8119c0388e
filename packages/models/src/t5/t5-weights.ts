import type { LoadWeightsReport, WeightSource } from '@tsformer/core-tensor';
import { ModelFileError } from '../errors.js';
import type { FamilyLoadOptions } from '../model-family.js';
import type { T5ForConditionalGeneration } from './t5-model.js';

/**
 * Original T5 checkpoints carry a cross-attention bias table that no layer reads (only self-attention
 * has one); Hugging Face ignores it on loading (`_keys_to_ignore_on_load_unexpected`), and so do we.
 */
const UNUSED_CROSS_ATTENTION_BIAS = 'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight';

/** The token table under the names a checkpoint may store it (they are one parameter here). */
const TOKEN_TABLE_NAMES = ['shared.weight', 'decoder.embed_tokens.weight', 'encoder.embed_tokens.weight'];

const HEAD_NAME = 'lm_head.weight';

/** A checkpoint name as the module tree knows it; null for a tensor ignored on purpose. */
export function t5CheckpointName(checkpointName: string): string | null {
  return checkpointName === UNUSED_CROSS_ATTENTION_BIAS ? null : checkpointName;
}

/**
 * Loads a checkpoint into a T5 model by name (strictly: a missing, unexpected or mis-shaped tensor is an
 * error naming it). The tied tables (`shared`, both `embed_tokens`, a tied `lm_head`) arrive under any
 * one of their names. An untied head (`tie_word_embeddings: false`, T5 v1.1 / flan-t5 as older
 * transformers saved them) is the checkpoint's `lm_head.weight`; where the checkpoint has none, the
 * head is the token table, as transformers 5 ties it. A tied head with an `lm_head.weight` of its own
 * in the checkpoint (transformers 5 writes `tie_word_embeddings: true` into every T5 config, also
 * when it keeps a file's separate head) is a `ModelFileError`, never a silently wrong head.
 */
export async function loadT5Weights(
  model: T5ForConditionalGeneration,
  source: WeightSource,
  options: FamilyLoadOptions = {},
): Promise<LoadWeightsReport> {
  const tied = model.config.tieWordEmbeddings;
  if (tied && !options.dryRun) await checkTiedHead(source);
  const withHead = tied ? source : withTableAsHead(source);
  return model.loadWeights(withHead, { ...options, mapName: t5CheckpointName });
}

/** The name `source` stores its token table under, if any. */
function tokenTableName(source: WeightSource): string | undefined {
  const names = source.names();
  return TOKEN_TABLE_NAMES.find((name) => names.includes(name));
}

/** `source` plus `lm_head.weight` read from its token table, when it has a table but no head. */
function withTableAsHead(source: WeightSource): WeightSource {
  const table = tokenTableName(source);
  if (source.names().includes(HEAD_NAME) || table === undefined) return source;
  const fromTable = (name: string) => (name === HEAD_NAME ? table : name);
  return {
    location: source.location,
    names: () => [...source.names(), HEAD_NAME],
    shape: (name) => source.shape(fromTable(name)),
    read: (name) => source.read(fromTable(name)),
  };
}

/** Refuses a checkpoint whose `lm_head.weight` is not a copy of the token table a tied head would read. */
async function checkTiedHead(source: WeightSource): Promise<void> {
  const table = tokenTableName(source);
  if (!source.names().includes(HEAD_NAME) || table === undefined) return;
  if (`${source.shape(HEAD_NAME)}` !== `${source.shape(table)}`) return; // the strict load names the shapes
  const [head, tableValues] = await Promise.all([source.read(HEAD_NAME), source.read(table)]);
  try {
    const [a, b] = await Promise.all([head.data(), tableValues.data()]);
    if (a.every((value, index) => value === b[index])) return;
  } finally {
    head.dispose();
    tableValues.dispose();
  }
  throw new ModelFileError(
    `${source.location}: ${HEAD_NAME} differs from ${table}, but the config ties the head to the token table (tie_word_embeddings true, as transformers 5 writes every T5 config); for this checkpoint's own head set "tie_word_embeddings": false in config.json`,
  );
}
