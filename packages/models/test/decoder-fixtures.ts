// Reading the Hugging Face reference fixtures of the decoder-only families (gpt2, llama, qwen3, gpt_neox, phi3, gemma2, tiny-llama-docs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, type SafetensorsReader } from '@tsformer/core-tensor';
import { assertClose } from '@tsformer/core-tensor/testing';
import { DEFAULT_FORWARD_ATOL, type ReferenceJson } from '@tsformer/models/testing';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The decoder-only model folders with HF ground truth, and their forward tolerance. */
export const DECODER_FIXTURES = {
  gpt2: `${ROOT}fixtures/hf-reference/gpt2`,
  llama: `${ROOT}fixtures/hf-reference/llama`,
  qwen3: `${ROOT}fixtures/hf-reference/qwen3`,
  gpt_neox: `${ROOT}fixtures/hf-reference/gpt_neox`,
  phi3: `${ROOT}fixtures/hf-reference/phi3`,
  gemma2: `${ROOT}fixtures/hf-reference/gemma2`,
  'tiny-llama-docs': `${ROOT}models/tiny-llama-docs`,
} as const;

export type DecoderFixtureName = keyof typeof DECODER_FIXTURES;

/** reference.json of a decoder-only fixture: these parts are always there. */
export type DecoderReference = ReferenceJson &
  Required<Pick<ReferenceJson, 'num_parameters' | 'forward' | 'tokenization'>>;

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readDecoderReference(name: DecoderFixtureName): DecoderReference {
  return readJson<DecoderReference>(`${DECODER_FIXTURES[name]}/reference.json`);
}

/** The folder's `atol` (1e-4 unless it says otherwise). */
export function forwardTolerance(reference: DecoderReference): number {
  return reference.atol ?? DEFAULT_FORWARD_ATOL;
}

/** The reference tensors (`forward.{k}.logits`, `forward.0.hidden.{l}`, `forward.0.attn.{l}`, ...). */
export function openReferenceTensors(name: DecoderFixtureName): Promise<SafetensorsReader> {
  return openSafetensors(`${DECODER_FIXTURES[name]}/reference.safetensors`);
}

/** A `[rows, cols]` int32 tensor of token ids. */
export function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

/** Compares `actual` (with a leading batch axis of 1) with the reference tensor `name`. */
export async function expectReference(
  reference: SafetensorsReader,
  name: string,
  actual: tf.Tensor,
  atol: number,
): Promise<void> {
  const expected = await reference.read(name);
  const unbatched = tf.reshape(actual, expected.shape);
  try {
    assertClose(unbatched, expected, atol, name);
  } finally {
    tf.dispose([expected, unbatched]);
  }
}
