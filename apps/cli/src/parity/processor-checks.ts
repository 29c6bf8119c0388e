import * as tf from '@tensorflow/tfjs-core';
import {
  applyLogitsProcessors,
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  type LogitsProcessor,
  MinLengthLogitsProcessor,
  MinPLogitsWarper,
  NoRepeatNGramLogitsProcessor,
  RepetitionPenaltyLogitsProcessor,
  SuppressTokensLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
} from '@tsformer/decoding';
import { assertTensorsClose, CheckFailure, type CheckResult, runCheck } from './check-result.js';
import type { ReferenceFolder } from './reference-folder.js';

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;

/**
 * How the processors folder names its cases: one processor per pattern, chained left to right
 * (`top_k_5_then_top_p_0.8_temp_0.7` is top-k, then top-p, then temperature).
 */
const PROCESSOR_NAMES: readonly (readonly [RegExp, (match: RegExpExecArray) => LogitsProcessor])[] = [
  [new RegExp(`^(?:temperature|temp)_${NUMBER}`), (m) => new TemperatureLogitsWarper(Number(m[1]))],
  [/^top_k_(\d+)/, (m) => new TopKLogitsWarper(Number(m[1]))],
  [new RegExp(`^top_p_${NUMBER}`), (m) => new TopPLogitsWarper(Number(m[1]))],
  [new RegExp(`^min_p_${NUMBER}`), (m) => new MinPLogitsWarper(Number(m[1]))],
  [new RegExp(`^typical_${NUMBER}`), (m) => new TypicalLogitsWarper(Number(m[1]))],
  [new RegExp(`^epsilon_${NUMBER}`), (m) => new EpsilonLogitsWarper(Number(m[1]))],
  [new RegExp(`^eta_${NUMBER}`), (m) => new EtaLogitsWarper(Number(m[1]))],
  [new RegExp(`^repetition_penalty_${NUMBER}`), (m) => new RepetitionPenaltyLogitsProcessor(Number(m[1]))],
  [/^no_repeat_ngram_(\d+)/, (m) => new NoRepeatNGramLogitsProcessor(Number(m[1]))],
  [/^min_length_(\d+)_eos(\d+)/, (m) => new MinLengthLogitsProcessor(Number(m[1]), Number(m[2]))],
  [/^suppress((?:_\d+)+)/, (m) => new SuppressTokensLogitsProcessor(m[1]!.slice(1).split('_').map(Number))],
];

/** The processors a case name stands for, in order; throws on a name it cannot read. */
export function processorsFromName(name: string): LogitsProcessor[] {
  const processors: LogitsProcessor[] = [];
  let rest = name;
  while (rest.length > 0) {
    const found = PROCESSOR_NAMES.map(([pattern, build]) => [pattern.exec(rest), build] as const).find(
      ([match]) => match !== null && /^(_then_|_|$)/.test(rest.slice(match[0].length)),
    );
    if (!found) throw new CheckFailure(`cannot read a processor from "${rest}" (in "${name}")`);
    const [match, build] = found;
    processors.push(build(match!));
    rest = rest.slice(match![0].length).replace(/^(_then_|_)/, '');
  }
  return processors;
}

/**
 * One check per processor named in reference.json: the processor (or chain) applied to
 * `processors.scores` given `processors.input_ids` must give the stored tensor (-inf where HF filtered).
 */
export async function checkProcessors(folder: ReferenceFolder): Promise<CheckResult[]> {
  const scores = (await folder.tensors.read('processors.scores')) as tf.Tensor2D;
  const inputIdsTensor = await folder.tensors.read('processors.input_ids');
  const inputIds = (await inputIdsTensor.array()) as number[][];
  inputIdsTensor.dispose();
  const results: CheckResult[] = [];
  try {
    for (const name of folder.reference.processors ?? []) {
      results.push(
        await runCheck(`processor ${name}`, async () => {
          const processors = processorsFromName(name);
          const expected = await folder.tensors.read(`processors.${name}`);
          // A clone: a processor with nothing to do returns its input, which is not ours to dispose.
          const actual = tf.tidy(() => tf.clone(applyLogitsProcessors(processors, inputIds, scores)));
          try {
            const { maxAbsDiff } = await assertTensorsClose(actual, expected, folder.atol, name);
            return `max |diff| ${maxAbsDiff.toExponential(2)}`;
          } finally {
            tf.dispose([actual, expected]);
          }
        }),
      );
    }
  } finally {
    scores.dispose();
  }
  return results;
}
