import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { folderFiles, PretrainedTokenizer } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL } from '../../test/run-cli.js';
import { UsageError } from '../cli-errors.js';
import { tokenizeExamples, trainingDataset } from './training-batches.js';
import { TrainingDataError } from './training-examples.js';

let tokenizer: PretrainedTokenizer;
beforeAll(async () => {
  await useBackend('wasm');
  tokenizer = (await PretrainedTokenizer.fromFiles(folderFiles(BUNDLED_MODEL)))!;
});

const causal = { task: 'causal-lm' as const, eosTokenId: 0 };

/** The batch `index` of `dataset` as plain arrays (tensors freed). */
async function rowsOf(dataset: ReturnType<typeof trainingDataset>, index: number) {
  const batch = dataset.batch(index);
  const rows = {
    inputIds: (await batch.inputIds.array()) as number[][],
    attentionMask: (await batch.attentionMask!.array()) as number[][],
    labels: (await batch.labels.array()) as number[][],
  };
  tf.dispose(Object.values(batch));
  return rows;
}

describe('tokenizeExamples', () => {
  it('puts the loss on the completion only (prompt labels -100, EOS appended)', () => {
    const [example] = tokenizeExamples(
      'p.jsonl',
      [{ kind: 'prompt-completion', line: 1, prompt: 'Return the', completion: ' number of' }],
      tokenizer,
      causal,
    );
    const prompt = tokenizer.encode('Return the');
    const completion = tokenizer.encode(' number of', { addSpecialTokens: false });
    expect(example!.inputIds).toEqual([...prompt, ...completion, 0]);
    expect(example!.labels).toEqual([...prompt.map(() => -100), ...completion, 0]);
  });

  it('refuses an example of the wrong shape for the model, naming its line', () => {
    const wrong = () =>
      tokenizeExamples(
        's.jsonl',
        [{ kind: 'source-target', line: 4, source: 'a', target: 'b' }],
        tokenizer,
        causal,
      );
    expect(wrong).toThrow(TrainingDataError);
    expect(wrong).toThrow(/^s.jsonl:4: a source-target example, but this causal-lm model trains on "text"/);
  });
});

describe('trainingDataset', () => {
  const examples = [
    { line: 1, inputIds: [1, 2, 3, 4, 5], labels: [1, 2, 3, 4, 5] },
    { line: 2, inputIds: [6, 7, 8], labels: [-100, 7, 8] },
    { line: 3, inputIds: [9, 10, 11, 12], labels: [9, 10, 11, 12] },
  ];
  const options = { batchSize: 2, blockSize: 4, maxPositions: 8, padTokenId: 0, task: 'causal-lm' as const };

  it('packs the concatenated tokens into full rows, dropping the remainder as run_clm does', async () => {
    await expectNoLeak(async () => {
      const dataset = trainingDataset('d.txt', examples, { ...options, mode: 'pack' });
      expect(dataset.length).toBe(2);
      expect(await rowsOf(dataset, 0)).toEqual({
        inputIds: [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ],
        attentionMask: [
          [1, 1, 1, 1],
          [1, 1, 1, 1],
        ],
        labels: [
          [1, 2, 3, 4],
          [5, -100, 7, 8],
        ],
      });
      expect((await rowsOf(dataset, 1)).inputIds).toEqual([[9, 10, 11, 12]]);
    });
  });

  it('pads each example to the longest of its batch (pad id, mask 0, labels -100)', async () => {
    await expectNoLeak(async () => {
      const dataset = trainingDataset('d.txt', examples, { ...options, mode: 'pad' });
      expect(await rowsOf(dataset, 0)).toEqual({
        inputIds: [
          [1, 2, 3, 4, 5],
          [6, 7, 8, 0, 0],
        ],
        attentionMask: [
          [1, 1, 1, 1, 1],
          [1, 1, 1, 0, 0],
        ],
        labels: [
          [1, 2, 3, 4, 5],
          [-100, 7, 8, -100, -100],
        ],
      });
    });
  });

  it('refuses a sequence longer than the model allows, naming the file and line', () => {
    const long = [...examples, { line: 7, inputIds: new Array(9).fill(1), labels: new Array(9).fill(1) }];
    expect(() => trainingDataset('d.jsonl', long, { ...options, mode: 'pad' })).toThrow(
      new TrainingDataError('d.jsonl', 7, '9 tokens, but the model takes at most 8 positions'),
    );
    expect(() => trainingDataset('d.txt', examples, { ...options, mode: 'pack', blockSize: 9 })).toThrow(
      UsageError,
    );
  });
});
