import { readFileSync } from 'node:fs';
import { TsformerError, withFile } from '@tsformer/core-tensor';
import { describe, expect, it } from 'vitest';
import { TrainingReferenceError } from '../errors.js';
import { parseFloat64TrainingJson, parseTrainingReference } from './reference-json.js';

const FIXTURES = new URL('../../../../fixtures/hf-reference/', import.meta.url).pathname;
const read = (path: string) => JSON.parse(readFileSync(`${FIXTURES}${path}`, 'utf8'));

describe('training reference files', () => {
  it('read every fixture folder', () => {
    for (const folder of ['gpt2', 'bart', 't5']) {
      expect(parseTrainingReference(read(`${folder}/training.json`)).parameters.length).toBeGreaterThan(10);
      expect(parseFloat64TrainingJson(read(`${folder}/training-float64.json`)).losses).toHaveLength(4);
    }
  });

  it('name the field that is missing or mistyped, and the file through withFile', () => {
    const json = read('gpt2/training.json');
    const broken = { ...json, hyperparameters: { ...json.hyperparameters, lr: '5e-3' } };
    const attempt = () => withFile('gpt2/training.json', () => parseTrainingReference(broken));
    expect(attempt).toThrow(TrainingReferenceError);
    expect(attempt).toThrow('gpt2/training.json: hyperparameters.lr must be a number, got string');
    expect(() =>
      parseTrainingReference({ ...json, batch: { ...json.batch, labels: [[1, 2], [3]] } }),
    ).toThrow('batch.labels must be rows of integers of one length');
    expect(() =>
      parseFloat64TrainingJson({ ...read('t5/training-float64.json'), fixture: undefined }),
    ).toThrow('fixture must be an object, got nothing');
    expect(TsformerError.isInstance(new TrainingReferenceError('x'))).toBe(true);
  });
});
