// The fixture folders the corpus mutates, with what each family's config calls its fields.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CorpusCommand } from './corpus-case.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** One fixture folder and the config fields its family reads. */
export interface SourceFolder {
  /** Short name used in case names: `gpt2`, `tiny-llama-docs`. */
  readonly name: string;
  /** Absolute path of the unchanged folder. */
  readonly path: string;
  /** The files a case folder starts from (linked to the fixture's). */
  readonly files: readonly string[];
  /** The safetensors files holding the weights (one, or the shards of the index). */
  readonly weightFiles: readonly string[];
  /** Commands that run on the whole folder (`generate` needs tokenizer.json). */
  readonly folderCommands: readonly CorpusCommand[];
  /** The positive-integer size fields of its config.json. */
  readonly sizeFields: readonly string[];
  /** Size fields whose null means "derive it" (`head_dim`, `n_inner`). */
  readonly nullableSizeFields: readonly string[];
  /** Token-id fields its config.json has. */
  readonly tokenIdFields: readonly string[];
  /** The field naming its activation function. */
  readonly activationField: string;
  /** Its normalisation epsilon field (BART-style configs have none). */
  readonly epsilonField: string | null;
  /** Boolean fields its family reads. */
  readonly booleanFields: readonly string[];
  /** Whether its config carries RoPE (rope_parameters / rope_theta / rope_scaling). */
  readonly rotary: boolean;
  /**
   * Loading it takes a tenth of a second (megabytes of weights or tokenizer): `generate` runs only
   * where no cheaper command reads the mutated file, and the tokenizer and generation-config
   * families (read by `generate` alone, the same code as in the small folders) leave it out.
   */
  readonly large: boolean;
  /**
   * It runs every reader-level mutation (whole-file JSON, safetensors bytes and header: the same code
   * for every folder), with all 64 header-length bits; the other folders run a seeded sample.
   */
  readonly thorough: boolean;
}

const LLAMA_FIELDS = {
  sizeFields: [
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'head_dim',
    'max_position_embeddings',
  ],
  nullableSizeFields: ['head_dim', 'num_key_value_heads'],
  tokenIdFields: ['bos_token_id', 'eos_token_id', 'pad_token_id'],
  activationField: 'hidden_act',
  epsilonField: 'rms_norm_eps',
  booleanFields: ['tie_word_embeddings', 'attention_bias', 'mlp_bias'],
  rotary: true,
};

const BART_SIZE_FIELDS = [
  'vocab_size',
  'd_model',
  'encoder_layers',
  'decoder_layers',
  'encoder_attention_heads',
  'decoder_attention_heads',
  'encoder_ffn_dim',
  'decoder_ffn_dim',
  'max_position_embeddings',
];

const TEXT_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

export const SOURCE_FOLDERS: readonly SourceFolder[] = [
  {
    name: 'gpt2',
    path: `${REPO_ROOT}fixtures/hf-reference/gpt2`,
    files: [...TEXT_FILES, 'model.safetensors'],
    weightFiles: ['model.safetensors'],
    folderCommands: ['generate', 'inspect --model'],
    sizeFields: ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_inner'],
    nullableSizeFields: ['n_inner'],
    tokenIdFields: ['bos_token_id', 'eos_token_id'],
    activationField: 'activation_function',
    epsilonField: 'layer_norm_epsilon',
    booleanFields: ['tie_word_embeddings', 'scale_attn_weights', 'add_cross_attention'],
    rotary: false,
    large: true,
    thorough: false,
  },
  {
    name: 'llama',
    path: `${REPO_ROOT}fixtures/hf-reference/llama`,
    files: [...TEXT_FILES, 'model.safetensors'],
    weightFiles: ['model.safetensors'],
    folderCommands: ['generate', 'inspect --model'],
    ...LLAMA_FIELDS,
    large: false,
    thorough: true,
  },
  {
    name: 'bart',
    path: `${REPO_ROOT}fixtures/hf-reference/bart`,
    files: [...TEXT_FILES, 'model.safetensors'],
    weightFiles: ['model.safetensors'],
    folderCommands: ['generate', 'inspect --model'],
    sizeFields: BART_SIZE_FIELDS,
    nullableSizeFields: [],
    tokenIdFields: [
      'bos_token_id',
      'eos_token_id',
      'pad_token_id',
      'decoder_start_token_id',
      'forced_eos_token_id',
    ],
    activationField: 'activation_function',
    epsilonField: null,
    booleanFields: ['tie_word_embeddings', 'scale_embedding'],
    rotary: false,
    large: false,
    thorough: false,
  },
  {
    // No tokenizer.json (OPUS-MT folders ship sentencepiece files): text cannot go in, so no generate.
    name: 'marian',
    path: `${REPO_ROOT}fixtures/hf-reference/marian`,
    files: ['config.json', 'generation_config.json', 'model.safetensors'],
    weightFiles: ['model.safetensors'],
    folderCommands: ['inspect --model'],
    sizeFields: [...BART_SIZE_FIELDS, 'decoder_vocab_size'],
    nullableSizeFields: ['decoder_vocab_size'],
    tokenIdFields: ['eos_token_id', 'pad_token_id', 'decoder_start_token_id', 'forced_eos_token_id'],
    activationField: 'activation_function',
    epsilonField: null,
    booleanFields: ['tie_word_embeddings', 'scale_embedding', 'share_encoder_decoder_embeddings'],
    rotary: false,
    large: false,
    thorough: false,
  },
  {
    name: 'tiny-llama-docs',
    path: `${REPO_ROOT}models/tiny-llama-docs`,
    files: [
      ...TEXT_FILES,
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ],
    weightFiles: ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
    folderCommands: ['generate', 'inspect --model'],
    ...LLAMA_FIELDS,
    large: true,
    thorough: false,
  },
];

const fileCache = new Map<string, Uint8Array>();

/** A fixture file's bytes (read once; callers must not modify them). */
export function fixtureBytes(folder: SourceFolder, file: string): Uint8Array {
  const path = `${folder.path}/${file}`;
  let bytes = fileCache.get(path);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(path));
    fileCache.set(path, bytes);
  }
  return bytes;
}

/** A fixture JSON file, parsed afresh (callers may change the copy). */
export function fixtureJson(folder: SourceFolder, file: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(folder, file))) as Record<string, unknown>;
}

/**
 * The commands that read `file` of `folder`, the cheapest last: config.json is also read alone by
 * `inspect --config`, weights by `inspect --model` without their tensors.
 */
export function commandsReading(folder: SourceFolder, file: string): readonly CorpusCommand[] {
  if (file === 'config.json') return [...folder.folderCommands, 'inspect --config'];
  if (folder.weightFiles.includes(file) || file === 'model.safetensors.index.json') {
    return folder.folderCommands;
  }
  // Tokenizer and generation files matter only to the command that turns text into text.
  return folder.folderCommands.filter((command) => command === 'generate');
}
