import { SeededRandom } from '@tsformer/core-tensor';

/**
 * A generator for one part of the corpus, seeded from the corpus seed and the part's name, so the
 * draws of one file do not shift when another file's mutations change.
 */
export function seededDraws(seed: number, part: string): SeededDraws {
  let hash = 0x811c9dc5; // FNV-1a over the part's name
  for (const char of `${seed}:${part}`) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return new SeededDraws(new SeededRandom(hash));
}

/** Seeded choices: integers below a bound and distinct picks from a list. */
export class SeededDraws {
  constructor(private readonly random: SeededRandom) {}

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.random.uniform() * bound);
  }

  /** `count` distinct items of `items` (all of them when there are fewer), in drawing order. */
  pick<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const picked: T[] = [];
    while (picked.length < count && pool.length > 0) picked.push(pool.splice(this.below(pool.length), 1)[0]!);
    return picked;
  }
}
