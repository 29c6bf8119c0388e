import * as tf from '@tensorflow/tfjs-core';
import type { PretrainedTokenizer } from '@tsformer/models';
import { IGNORE_INDEX, type TrainingBatch, type TrainingDataset } from '@tsformer/training';
import { UsageError } from '../cli-errors.js';
import { type TextExample, TrainingDataError } from './training-examples.js';

/** An example as token ids: the input, and the labels (`-100` where no loss is wanted). */
export interface TokenizedExample {
  line: number;
  /** Decoder-only: the whole sequence; encoder-decoder: the source. */
  inputIds: number[];
  /** Decoder-only: the same length as `inputIds`; encoder-decoder: the target. */
  labels: number[];
}

export interface TokenizeOptions {
  task: 'causal-lm' | 'seq2seq-lm';
  /** Appended to a completion, so the model learns to stop. */
  eosTokenId: number | undefined;
}

/**
 * Token ids of each example, as Hugging Face's recipes build them:
 * - `text` (decoder-only): the tokenized text, every token a label (`run_clm`);
 * - `prompt` / `completion` (decoder-only): prompt then completion (without special tokens) and EOS,
 *   labels `-100` over the prompt, so the loss is on the completion only (TRL's completion-only loss);
 * - `source` / `target` (encoder-decoder): the tokenized source as input, the tokenized target as
 *   labels (`tokenizer(text_target=…)`).
 * An example of the wrong shape for the model is a `TrainingDataError` naming its line.
 */
export function tokenizeExamples(
  path: string,
  examples: readonly TextExample[],
  tokenizer: PretrainedTokenizer,
  { task, eosTokenId }: TokenizeOptions,
): TokenizedExample[] {
  return examples.map((example) => {
    const { line } = example;
    if ((example.kind === 'source-target') !== (task === 'seq2seq-lm')) {
      const wanted = task === 'seq2seq-lm' ? '"source" and "target"' : '"text" or "prompt" and "completion"';
      throw new TrainingDataError(
        path,
        line,
        `a ${example.kind} example, but this ${task} model trains on ${wanted}`,
      );
    }
    return tokenizeExample(example, tokenizer, eosTokenId);
  });
}

function tokenizeExample(
  example: TextExample,
  tokenizer: PretrainedTokenizer,
  eosTokenId: number | undefined,
): TokenizedExample {
  const { line } = example;
  if (example.kind === 'text') {
    const ids = tokenizer.encode(example.text);
    return { line, inputIds: ids, labels: ids };
  }
  if (example.kind === 'source-target') {
    return { line, inputIds: tokenizer.encode(example.source), labels: tokenizer.encode(example.target) };
  }
  const prompt = tokenizer.encode(example.prompt);
  const completion = tokenizer.encode(example.completion, { addSpecialTokens: false });
  if (eosTokenId !== undefined) completion.push(eosTokenId);
  return {
    line,
    inputIds: [...prompt, ...completion],
    labels: [...prompt.map(() => IGNORE_INDEX), ...completion],
  };
}

export interface BatchingOptions {
  batchSize: number;
  /** `pack`: concatenate and cut into `blockSize` rows (decoder-only); `pad`: one example per row. */
  mode: 'pack' | 'pad';
  blockSize: number;
  /** The most positions the model takes (null: no limit). */
  maxPositions: number | null;
  padTokenId: number;
  task: 'causal-lm' | 'seq2seq-lm';
}

/** The rows of a dataset before batching: input ids, labels, and the line each came from. */
interface Row {
  line: number;
  inputIds: number[];
  labels: number[];
}

/**
 * The examples as a `TrainingDataset` of `batchSize`-row batches (the last one may be short):
 * - `pack`: every example's ids and labels concatenated and cut into rows of `blockSize` tokens
 *   (`run_clm`'s `group_texts`: the remainder past the last full row is dropped, unless there is no
 *   full row at all, when the whole text is one row);
 * - `pad`: one example per row, right-padded to the longest in its batch (`padTokenId`, mask 0,
 *   labels `-100`); an example longer than the model's positions is a `TrainingDataError` naming its line.
 */
export function trainingDataset(
  path: string,
  examples: readonly TokenizedExample[],
  options: BatchingOptions,
): TrainingDataset {
  const { batchSize, mode, blockSize, maxPositions, task } = options;
  if (mode === 'pack' && task === 'seq2seq-lm') {
    throw new UsageError(
      '--batching pack is for decoder-only models; an encoder-decoder model pads (--batching pad)',
    );
  }
  if (maxPositions !== null && mode === 'pack' && blockSize > maxPositions) {
    throw new UsageError(`--block-size ${blockSize} is longer than the model's ${maxPositions} positions`);
  }
  const rows = mode === 'pack' ? packedRows(examples, blockSize) : paddedRows(path, examples, maxPositions);
  const batches: Row[][] = [];
  for (let start = 0; start < rows.length; start += batchSize)
    batches.push(rows.slice(start, start + batchSize));
  return { length: batches.length, batch: (index) => batchTensors(batches[index]!, options) };
}

function packedRows(examples: readonly TokenizedExample[], blockSize: number): Row[] {
  const inputIds = examples.flatMap((example) => example.inputIds);
  const labels = examples.flatMap((example) => example.labels);
  const line = examples[0]!.line;
  if (inputIds.length < blockSize) return [{ line, inputIds, labels }];
  const rows: Row[] = [];
  for (let start = 0; start + blockSize <= inputIds.length; start += blockSize) {
    rows.push({
      line,
      inputIds: inputIds.slice(start, start + blockSize),
      labels: labels.slice(start, start + blockSize),
    });
  }
  return rows;
}

function paddedRows(path: string, examples: readonly TokenizedExample[], maxPositions: number | null): Row[] {
  for (const { line, inputIds, labels } of examples) {
    const longest = Math.max(inputIds.length, labels.length);
    if (maxPositions !== null && longest > maxPositions) {
      throw new TrainingDataError(
        path,
        line,
        `${longest} tokens, but the model takes at most ${maxPositions} positions`,
      );
    }
    if (inputIds.length === 0 || labels.length === 0) throw new TrainingDataError(path, line, 'no tokens');
  }
  return [...examples];
}

/** One batch's tensors: rows right-padded to the batch's longest. */
function batchTensors(rows: readonly Row[], { padTokenId, task }: BatchingOptions): TrainingBatch {
  const width = (pick: (row: Row) => number[]) => Math.max(...rows.map((row) => pick(row).length));
  const pad = (values: number[], length: number, fill: number) => [
    ...values,
    ...new Array<number>(length - values.length).fill(fill),
  ];
  const inputWidth = width((row) => row.inputIds);
  const labelWidth = task === 'causal-lm' ? inputWidth : width((row) => row.labels);
  const matrix = (values: number[][], columns: number) =>
    tf.tensor2d(values, [values.length, columns], 'int32');
  return {
    inputIds: matrix(
      rows.map((row) => pad(row.inputIds, inputWidth, padTokenId)),
      inputWidth,
    ),
    attentionMask: matrix(
      rows.map((row) => pad(new Array<number>(row.inputIds.length).fill(1), inputWidth, 0)),
      inputWidth,
    ),
    labels: matrix(
      rows.map((row) => pad(row.labels, labelWidth, IGNORE_INDEX)),
      labelWidth,
    ),
  };
}
