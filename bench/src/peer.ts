import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The peer-bench prompt: `bench-prompt.json`'s text, repeated and cut to `tokens` ids (as its `lib.mjs`). */
export function peerPromptIds(peerDir: string, encode: (text: string) => number[], tokens: number): number[] {
  const { text } = JSON.parse(readFileSync(join(peerDir, 'bench-prompt.json'), 'utf8')) as { text: string };
  const one = encode(text);
  const ids: number[] = [];
  while (ids.length < tokens) ids.push(...one);
  return ids.slice(0, tokens);
}

/** What the transformers.js harness prints (the fields compared here). */
export interface PeerFigures {
  prefill_tok_s: number;
  decode_tok_s: number;
  peak_rss_mib: number;
  matches_hf_greedy: boolean | null;
  [field: string]: unknown;
}

/**
 * One process of `../shared/peer-bench`'s transformers.js harness on `modelDir` (the folder its
 * `build_model_folder.py --out` wrote), with the keep-last graph: tsformer's prefill computes only
 * the last position's logits too.
 */
export function runPeerHarness(
  peerDir: string,
  modelDir: string,
  promptTokens: number,
  newTokens: number,
): PeerFigures {
  const child = spawnSync(
    process.execPath,
    [
      join(peerDir, 'bench-transformersjs.mjs'),
      '--model',
      modelDir,
      '--prompt-tokens',
      String(promptTokens),
      '--new-tokens',
      String(newTokens),
      '--variant',
      'model_keeplast',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`the transformers.js harness failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as PeerFigures;
}
