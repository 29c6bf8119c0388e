import { assertClose } from '@tsformer/core-tensor/testing';
import { generateAll, parseGenerationConfig } from '@tsformer/decoding';
import type { PretrainedModel, PretrainedTokenizer } from '@tsformer/models';
import { type GenerateCase, SEQUENCE_SCORES_ATOL, TIE_MARGIN } from '@tsformer/models/testing';
import { CheckFailure, type CheckResult, runCheck } from './check-result.js';
import type { ReferenceFolder } from './reference-folder.js';

/** Token ids, token strings and decoded text of every tokenization case. */
export async function checkTokenization(
  folder: ReferenceFolder,
  tokenizer: PretrainedTokenizer | null,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [index, tokenizationCase] of (folder.reference.tokenization ?? []).entries()) {
    const label = `tokenization[${index}]`;
    const check = async (what: string, run: (tokenizer: PretrainedTokenizer) => string) =>
      results.push(
        await runCheck(`${label} ${what}`, () => {
          if (!tokenizer) throw new CheckFailure(`${folder.dir} has no tokenizer.json`);
          return run(tokenizer);
        }),
      );
    await check('ids', (tokenizer) =>
      sameJson(tokenizer.encode(tokenizationCase.text), tokenizationCase.ids),
    );
    if (tokenizationCase.tokens) {
      const tokens = tokenizationCase.tokens;
      await check('tokens', (tokenizer) => sameJson(tokenizer.tokenize(tokenizationCase.text), tokens));
    }
    if (tokenizationCase.decoded !== undefined) {
      const decoded = tokenizationCase.decoded;
      await check('decoded', (tokenizer) =>
        sameJson(tokenizer.decode(tokenizationCase.ids, { skipSpecialTokens: true }), decoded),
      );
    }
  }
  return results;
}

/** `num_parameters()` as Hugging Face counts it (tied weights once, buffers not at all). */
export function checkParameterCount(folder: ReferenceFolder, model: PretrainedModel): CheckResult[] {
  const expected = folder.reference.num_parameters;
  if (expected === undefined) return [];
  const actual = model.numParameters();
  return [
    {
      name: 'num_parameters',
      status: actual === expected ? 'pass' : 'fail',
      detail: actual === expected ? String(actual) : `${actual}, expected ${expected}`,
    },
  ];
}

/**
 * Every generate case, its `generate()` arguments over the model's generation defaults (the folder's
 * generation_config.json), as in Hugging Face: identical sequences (a difference where HF's own
 * smallest top-2 margin is below 1e-4 is a tie, not a failure) and, for beam search,
 * `sequences_scores` within 1e-4.
 */
export async function checkGenerateCases(
  folder: ReferenceFolder,
  model: PretrainedModel,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const generateCase of folder.reference.generate ?? []) {
    const name = `generate ${generateCase.name}`;
    let result: CheckResult;
    try {
      result = { name, ...(await runGenerateCase(generateCase, model)) };
    } catch (error) {
      result = { name, status: 'fail', detail: (error as Error).message };
    }
    results.push(result);
  }
  return results;
}

async function runGenerateCase(
  generateCase: GenerateCase,
  model: PretrainedModel,
): Promise<Pick<CheckResult, 'status' | 'detail'>> {
  const output = await generateAll(
    model,
    {
      inputIds: generateCase.input_ids,
      ...(generateCase.attention_mask && { attentionMask: generateCase.attention_mask }),
    },
    parseGenerationConfig(generateCase.kwargs),
  );
  const difference = firstDifference(output.sequences, generateCase.sequences);
  if (difference) {
    const tie = generateCase.min_top2_margin < TIE_MARGIN;
    return {
      status: tie ? 'tie' : 'fail',
      detail: `${difference}${tie ? ` (HF's smallest top-2 margin ${generateCase.min_top2_margin.toExponential(2)} < ${TIE_MARGIN}: a tie)` : ''}`,
    };
  }
  const rows = `${generateCase.sequences.length} sequence(s) identical`;
  if (!generateCase.sequences_scores) return { status: 'pass', detail: rows };
  if (!output.sequencesScores)
    return { status: 'fail', detail: `${rows}, but no sequences_scores were returned` };
  try {
    const { maxAbsDiff } = assertClose(
      output.sequencesScores,
      generateCase.sequences_scores,
      SEQUENCE_SCORES_ATOL,
      'sequences_scores',
    );
    return { status: 'pass', detail: `${rows}; scores max |diff| ${maxAbsDiff.toExponential(2)}` };
  } catch (error) {
    return { status: 'fail', detail: `${rows}; ${(error as Error).message}` };
  }
}

/** Where two id tables first differ, or undefined when they are identical. */
function firstDifference(actual: number[][], expected: number[][]): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} sequences, expected ${expected.length}`;
  for (const [row, expectedRow] of expected.entries()) {
    const actualRow = actual[row]!;
    const length = Math.max(actualRow.length, expectedRow.length);
    for (let position = 0; position < length; position++) {
      if (actualRow[position] !== expectedRow[position]) {
        return `row ${row} differs at position ${position}: ${actualRow[position] ?? 'end'}, expected ${expectedRow[position] ?? 'end'}`;
      }
    }
  }
  return undefined;
}

function sameJson(actual: unknown, expected: unknown): string {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new CheckFailure(`got ${clip(a)}, expected ${clip(e)}`);
  return '';
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
