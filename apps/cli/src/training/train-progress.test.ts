import type { TrainingLogEntry } from '@tsformer/training';
import { describe, expect, it } from 'vitest';
import { trainProgress } from './train-progress.js';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return {
    isTTY,
    write: (text: string) => written.push(text) > 0,
    written,
  } as unknown as NodeJS.WriteStream & {
    written: string[];
  };
}

const STEP: TrainingLogEntry = {
  kind: 'train',
  step: 2,
  epoch: 0.5,
  loss: 2.5,
  learningRate: 1e-4,
  gradNorm: 0.7,
  tokens: 300,
};

describe('trainProgress', () => {
  it('writes one JSON line per entry on stdout when piped, with tokens/s', () => {
    const [stdout, stderr] = [stream(false), stream(false)];
    const times = [0, 1500];
    const progress = trainProgress(4, {}, { stdout, stderr }, () => times.shift()!);
    progress.log(STEP);
    progress.finish();
    expect(stderr.written).toEqual([]);
    expect(stdout.written.map((line) => JSON.parse(line))).toEqual([
      {
        kind: 'train',
        step: 2,
        epoch: 0.5,
        loss: 2.5,
        learning_rate: 1e-4,
        grad_norm: 0.7,
        tokens: 300,
        tokens_per_second: 200,
      },
    ]);
  });

  it('draws a bar with loss and tokens/s on a terminal, and eval lines of their own', () => {
    const [stdout, stderr] = [stream(true), stream(true)];
    const times = [0, 1000, 1200];
    const progress = trainProgress(4, {}, { stdout, stderr }, () => times.shift()!);
    progress.log(STEP);
    expect(stderr.written.at(-1)).toBe(
      '\rstep 2/4 [############............] loss 2.5000 · lr 1.00e-4 · 300 tok/s',
    );
    progress.log({ kind: 'eval', step: 2, epoch: 0.5, loss: 2, perplexity: Math.exp(2), tokens: 40 });
    expect(stderr.written.at(-1)).toBe('step 2: eval loss 2.0000, perplexity 7.39\n');
    expect(stdout.written).toEqual([]);
  });

  it('writes JSON lines on a terminal too when asked (--json)', () => {
    const [stdout, stderr] = [stream(true), stream(true)];
    const progress = trainProgress(4, { json: true }, { stdout, stderr }, () => 0);
    progress.log({ kind: 'eval', step: 2, epoch: 0.5, loss: 2, perplexity: 7, tokens: 40 });
    expect(stderr.written).toEqual([]);
    expect(JSON.parse(stdout.written[0]!)).toEqual({
      kind: 'eval',
      step: 2,
      epoch: 0.5,
      loss: 2,
      perplexity: 7,
      tokens: 40,
    });
  });
});
