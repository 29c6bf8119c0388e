import { describe, expect, it } from 'vitest';
import { runCli, runCliJson } from '../../test/run-cli.js';
import type { BenchResult } from './bench.js';

describe('tsformer bench', () => {
  it('measures a batched run: first token, prefill and decode rates, peak RSS, no tensor leaked', () => {
    const result = runCliJson<BenchResult>([
      'bench',
      '--prompt-tokens',
      '16',
      '--new-tokens',
      '5',
      '--batch',
      '2',
    ]);
    expect(result).toMatchObject({
      backend: 'wasm',
      batch: 2,
      promptTokens: 16,
      newTokens: 5,
      tensorsLeaked: 0,
    });
    expect(result.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(result.totalMs).toBeGreaterThan(result.timeToFirstTokenMs);
    expect(result.prefillTokensPerSecond).toBeCloseTo((2 * 16) / (result.timeToFirstTokenMs / 1000), 6);
    expect(result.decodeTokensPerSecond).toBeCloseTo(
      (2 * 4) / ((result.totalMs - result.timeToFirstTokenMs) / 1000),
      6,
    );
    expect(result.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(result.tensorsAlive).toBeGreaterThan(0);
  });

  it('prints one labelled line per figure without --json', () => {
    const run = runCli(['bench', '--prompt-tokens', '4', '--new-tokens', '2', '--backend', 'cpu']);
    expect(run.status).toBe(0);
    for (const label of ['first token', 'prefill', 'decode', 'peak RSS', 'tensors']) {
      expect(run.stdout).toMatch(new RegExp(`^${label}\\s+\\S`, 'm'));
    }
    expect(run.stdout).toMatch(/on cpu$/m);
    expect(run.stdout).toMatch(/^tensors\s+\d+ alive at the end, 0 leaked$/m);
  });
});
