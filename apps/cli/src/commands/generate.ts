import { type GenerateOptions, type GenerateOutput, generate } from '@tsformer/decoding';
import type { Command } from 'commander';
import {
  addModelRunOptions,
  addOutputOptions,
  chosenBackend,
  type ModelRunOptions,
  type OutputOptions,
} from '../common-options.js';
import {
  addGenerationFlags,
  type GenerationFlagValues,
  generationOptionsFromFlags,
} from '../generation-flags.js';
import { checkGenerationOptions, checkTokenIds } from '../generation-setup.js';
import {
  DEFAULT_MODEL_DIR,
  type LoadedModel,
  loadModelFolder,
  requireFolder,
  requireTokenizer,
} from '../model-folder.js';
import { printJson, readStdin } from '../output.js';
import type { SetStatus } from '../program.js';
import { progressBar } from '../progress-bar.js';

/** The prompt when none is given on the command line or stdin (the bundled model writes docstrings). */
export const DEFAULT_PROMPT = 'Return the number of';

interface GenerateCommandOptions extends OutputOptions, ModelRunOptions, GenerationFlagValues {
  model?: string;
  prompt?: string;
}

export function registerGenerate(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('generate')
    .description(
      'generate text from a prompt, streamed as it is produced (beam search prints at the end); ' +
        'with no arguments, the bundled model continues a default prompt',
    )
    .option('--model <dir>', 'Hugging Face model folder (default: the bundled models/tiny-llama-docs)')
    .option('--prompt <text>', `the prompt (default: stdin when piped, else "${DEFAULT_PROMPT}")`);
  addGenerationFlags(command);
  addModelRunOptions(command);
  addOutputOptions(command);
  command.action((options: GenerateCommandOptions) => runGenerate(options));
}

/** A finished generation: the output and when its first step came. */
interface Timed {
  output: GenerateOutput;
  firstTokenMs: number;
  totalMs: number;
}

async function runGenerate(options: GenerateCommandOptions): Promise<void> {
  const dir = options.model ?? DEFAULT_MODEL_DIR;
  await requireFolder(dir);
  const generation = await checkGenerationOptions(dir, generationOptionsFromFlags(options));
  const prompt = await readPrompt(options.prompt);
  const loaded = await loadModelFolder(dir, chosenBackend(options.backend), options.dtype);
  try {
    checkTokenIds(generation, loaded.model.vocabSize);
    const tokenizer = requireTokenizer(loaded);
    const inputIds = tokenizer.encode(prompt);
    const { numBeams, numReturnSequences, doSample, maxNewTokens, maxLength } = generation.resolved;
    const streaming = !options.json && numReturnSequences === 1;
    const isSeq2Seq = loaded.family.task === 'seq2seq-lm';
    // Streamed output starts with the prompt (decoder-only models), once generation is under way.
    let pendingPrompt = streaming && !isSeq2Seq ? prompt : '';
    const stream = (text: string) => {
      process.stdout.write(pendingPrompt + text);
      pendingPrompt = '';
    };

    const timed = await timedGeneration(
      loaded,
      inputIds,
      {
        ...generation.commandLine,
        tokenDecoder: tokenizer,
        onWarning: (message) => process.stderr.write(`tsformer: warning: ${message}\n`),
        ...(streaming && { onText: stream }),
        ...(options.seed !== undefined && { seed: options.seed }),
      },
      // Streamed text shows its own progress, and beam search yields once, at the end; otherwise a
      // bar over the new tokens (on a terminal).
      streaming || numBeams > 1 ? undefined : (maxNewTokens ?? (maxLength ?? 0) - inputIds.length),
    );
    const { output } = timed;
    // Decoder-only rows start with the prompt, encoder-decoder rows with the decoder start token.
    const generated = output.sequences.map((row) => row.slice(isSeq2Seq ? 1 : inputIds.length));
    const texts = generated.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true }));

    if (options.json) {
      printJson({
        model: dir,
        backend: loaded.backend.name,
        prompt,
        promptTokens: inputIds.length,
        search: numBeams > 1 ? 'beam' : doSample ? 'sample' : 'greedy',
        sequences: generated.map((ids, row) => ({
          text: texts[row],
          tokenIds: ids,
          ...(output.sequencesScores && { score: output.sequencesScores[row] }),
        })),
        timing: {
          loadMs: round(loaded.loadMs),
          firstTokenMs: round(timed.firstTokenMs),
          totalMs: round(timed.totalMs),
        },
      });
      return;
    }
    if (streaming) stream('\n');
    else {
      texts.forEach((text, row) => {
        const score = output.sequencesScores?.[row];
        const label = score === undefined ? '' : ` (score ${score.toFixed(4)})`;
        process.stdout.write(`--- sequence ${row + 1}${label}\n${isSeq2Seq ? '' : prompt}${text}\n`);
      });
    }
    if (process.stderr.isTTY) {
      const newTokens = Math.max(...generated.map((ids) => ids.length));
      const rate = Math.max(0, newTokens - 1) / ((timed.totalMs - timed.firstTokenMs) / 1000);
      const pace =
        numBeams > 1
          ? ''
          : `, the first after ${round(timed.firstTokenMs)} ms, then ${rate.toFixed(1)} tokens/s`;
      process.stderr.write(
        `${newTokens} tokens in ${round(timed.totalMs)} ms${pace} (${loaded.backend.name})\n`,
      );
    }
  } finally {
    loaded.model.dispose();
  }
}

/** Runs generation to the end, timing its first step; with `expectedSteps`, a progress bar on a terminal. */
async function timedGeneration(
  loaded: LoadedModel,
  inputIds: number[],
  options: GenerateOptions,
  expectedSteps: number | undefined,
): Promise<Timed> {
  const progress = expectedSteps === undefined ? undefined : progressBar('generating');
  const start = performance.now();
  let firstTokenMs: number | undefined;
  let steps = 0;
  // The tokenizer's attention mask: no padding (never inferred from a pad id that is also BOS).
  const run = generate(
    loaded.model,
    { inputIds: [inputIds], attentionMask: [inputIds.map(() => 1)] },
    options,
  );
  try {
    for (;;) {
      const step = await run.next();
      firstTokenMs ??= performance.now() - start;
      if (step.done) return { output: step.value, firstTokenMs, totalMs: performance.now() - start };
      steps += 1;
      progress?.update(steps, expectedSteps!);
    }
  } finally {
    progress?.finish();
  }
}

/** The prompt: the option, else stdin when it is piped and not empty, else the default prompt. */
async function readPrompt(option: string | undefined): Promise<string> {
  if (option !== undefined) return option;
  if (process.stdin.isTTY) return DEFAULT_PROMPT;
  const piped = (await readStdin()).replace(/\r?\n$/, '');
  return piped === '' ? DEFAULT_PROMPT : piped;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
