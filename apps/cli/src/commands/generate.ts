import type { BackendName } from '@tsformer/core-tensor';
import { type GenerateOutput, generate } from '@tsformer/decoding';
import type { Command } from 'commander';
import { addBackendOption, addOutputOptions, chosenBackend, type OutputOptions } from '../common-options.js';
import {
  addGenerationFlags,
  type GenerationFlagValues,
  generationOptionsFromFlags,
} from '../generation-flags.js';
import { checkGenerationOptions } from '../generation-setup.js';
import { DEFAULT_MODEL_DIR, loadModelFolder, requireFolder, requireTokenizer } from '../model-folder.js';
import { printJson, readStdin } from '../output.js';
import type { SetStatus } from '../program.js';

/** The prompt when none is given on the command line or stdin (the bundled model writes docstrings). */
export const DEFAULT_PROMPT = 'Return the number of';

interface GenerateCommandOptions extends OutputOptions, GenerationFlagValues {
  model?: string;
  prompt?: string;
  backend?: BackendName;
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
  addBackendOption(command);
  addOutputOptions(command);
  command.action((options: GenerateCommandOptions) => runGenerate(options));
}

async function runGenerate(options: GenerateCommandOptions): Promise<void> {
  const dir = options.model ?? DEFAULT_MODEL_DIR;
  await requireFolder(dir);
  const generation = await checkGenerationOptions(dir, generationOptionsFromFlags(options));
  const prompt = await readPrompt(options.prompt);
  const loaded = await loadModelFolder(dir, chosenBackend(options.backend));
  try {
    const tokenizer = requireTokenizer(loaded);
    const inputIds = tokenizer.encode(prompt);
    const { numBeams, numReturnSequences } = generation.resolved;
    const streaming = !options.json && numReturnSequences === 1;
    const isSeq2Seq = loaded.family.task === 'seq2seq-lm';
    if (streaming && !isSeq2Seq) process.stdout.write(prompt);

    const start = performance.now();
    let firstTokenMs: number | undefined;
    const steps = generate(
      loaded.model,
      // The tokenizer's attention mask: no padding (never inferred from a pad id that is also BOS).
      { inputIds: [inputIds], attentionMask: [inputIds.map(() => 1)] },
      {
        ...generation.commandLine,
        generationConfig: loaded.generationConfig,
        tokenDecoder: tokenizer,
        ...(streaming && { onText: (text: string) => process.stdout.write(text) }),
        ...(options.seed !== undefined && { seed: options.seed }),
      },
    );
    let output: GenerateOutput;
    for (;;) {
      const step = await steps.next();
      firstTokenMs ??= performance.now() - start;
      if (step.done) {
        output = step.value;
        break;
      }
    }
    const totalMs = performance.now() - start;
    // Decoder-only rows start with the prompt, encoder-decoder rows with the decoder start token.
    const skip = isSeq2Seq ? 1 : inputIds.length;
    const generated = output.sequences.map((row) => row.slice(skip));
    const texts = generated.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true }));

    if (options.json) {
      printJson({
        model: dir,
        backend: loaded.backend.name,
        prompt,
        promptTokens: inputIds.length,
        search: numBeams > 1 ? 'beam' : generation.resolved.doSample ? 'sample' : 'greedy',
        sequences: generated.map((ids, row) => ({
          text: texts[row],
          tokenIds: ids,
          ...(output.sequencesScores && { score: output.sequencesScores[row] }),
        })),
        timing: { loadMs: round(loaded.loadMs), firstTokenMs: round(firstTokenMs), totalMs: round(totalMs) },
      });
      return;
    }
    if (streaming) {
      process.stdout.write('\n');
    } else {
      texts.forEach((text, row) => {
        const score = output.sequencesScores?.[row];
        const label = score === undefined ? '' : ` (score ${score.toFixed(4)})`;
        process.stdout.write(`--- sequence ${row + 1}${label}\n${isSeq2Seq ? '' : prompt}${text}\n`);
      });
    }
    if (process.stderr.isTTY) {
      const newTokens = Math.max(...generated.map((ids) => ids.length));
      const decodeSeconds = (totalMs - firstTokenMs) / 1000;
      process.stderr.write(
        `${newTokens} tokens; first after ${round(firstTokenMs)} ms, then ${(Math.max(0, newTokens - 1) / decodeSeconds).toFixed(1)} tokens/s (${loaded.backend.name})\n`,
      );
    }
  } finally {
    loaded.model.dispose();
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
