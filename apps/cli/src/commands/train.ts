import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackendName, enableGradients, inspectPath } from '@tsformer/core-tensor';
import { describeConfig, type Pretrained, type PretrainedTokenizer, savePretrained } from '@tsformer/models';
import {
  SCHEDULER_NAMES,
  type SchedulerName,
  TRAINER_STATE_FILE_NAME,
  Trainer,
  type TrainerOptions,
  type TrainerState,
  type TrainingDataset,
} from '@tsformer/training';
import { type Command, Option } from 'commander';
import { InputFileError } from '../cli-errors.js';
import { addBackendOption, addOutputOptions, chosenBackend, type OutputOptions } from '../common-options.js';
import {
  DEFAULT_MODEL_DIR,
  type LoadedModel,
  loadModelFolder,
  requireFolder,
  requireTokenizer,
} from '../model-folder.js';
import { integerAtLeast, nonNegativeNumber } from '../option-parsers.js';
import type { SetStatus } from '../program.js';
import { lossCurveSvg } from '../training/loss-curve.js';
import { type TrainProgress, trainProgress } from '../training/train-progress.js';
import { tokenizeExamples, trainingDataset } from '../training/training-batches.js';
import { readTextExamples } from '../training/training-examples.js';

/** The loss curve written next to the checkpoints. */
export const LOSS_CURVE_FILE_NAME = 'loss-curve.svg';
/** The default packed row length, capped by the model's positions. */
const DEFAULT_BLOCK_SIZE = 128;

export interface TrainCommandOptions extends OutputOptions {
  model?: string;
  data: string;
  out: string;
  evalData?: string;
  epochs: number;
  maxSteps?: number;
  lr: number;
  weightDecay: number;
  batchSize: number;
  gradAccum: number;
  scheduler: SchedulerName;
  warmupSteps: number;
  maxGradNorm: number;
  batching?: 'pack' | 'pad';
  blockSize?: number;
  saveSteps?: number;
  evalSteps?: number;
  resume?: string;
  seed: number;
  backend?: BackendName;
}

export function registerTrain(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('train')
    .description(
      'fine-tune a model folder on a text file (one example per line) or JSONL ("text", "prompt"/"completion" ' +
        'with the loss on the completion only, "source"/"target" for encoder-decoders); writes checkpoints, ' +
        'the final model folder and a loss curve to --out',
    )
    .option('--model <dir>', 'Hugging Face model folder (default: the bundled models/tiny-llama-docs)')
    .requiredOption('--data <file>', 'training data: a .jsonl file, or text with one example per line')
    .requiredOption('--out <dir>', 'where checkpoints, the trained model and loss-curve.svg go')
    .option('--eval-data <file>', 'evaluation data (same formats): loss and perplexity')
    .option('--epochs <n>', 'passes over the data', integerAtLeast(1), 3)
    .option('--max-steps <n>', 'optimizer steps to run (wins over --epochs)', integerAtLeast(1))
    .option('--lr <x>', 'peak learning rate (AdamW)', nonNegativeNumber, 5e-5)
    .option('--weight-decay <x>', "AdamW's decoupled weight decay", nonNegativeNumber, 0)
    .option('--batch-size <n>', 'rows per batch', integerAtLeast(1), 8)
    .option('--grad-accum <n>', 'batches per optimizer step (gradient accumulation)', integerAtLeast(1), 1)
    .addOption(
      new Option('--scheduler <name>', 'learning-rate schedule (HF names)')
        .choices(SCHEDULER_NAMES)
        .default('linear'),
    )
    .option('--warmup-steps <n>', 'linear warmup steps', integerAtLeast(0), 0)
    .option(
      '--max-grad-norm <x>',
      'clip gradients to this global norm (0: no clipping)',
      nonNegativeNumber,
      1,
    )
    .addOption(
      new Option(
        '--batching <mode>',
        'pack rows of --block-size tokens, or pad each example (default: pack for "text", pad otherwise)',
      ).choices(['pack', 'pad']),
    )
    .option(
      '--block-size <n>',
      `packed row length (default: ${DEFAULT_BLOCK_SIZE}, at most the model's positions)`,
      integerAtLeast(1),
    )
    .option('--save-steps <n>', 'write a checkpoint every n steps (and always at the end)', integerAtLeast(1))
    .option('--eval-steps <n>', 'evaluate every n steps (and always at the end)', integerAtLeast(1))
    .option(
      '--resume <dir>',
      'continue from a checkpoint folder, or from the latest checkpoint in a --out folder',
    )
    .option('--seed <n>', 'seed of the batch order', integerAtLeast(0), 42);
  addBackendOption(command);
  addOutputOptions(command);
  command.action(async (options: TrainCommandOptions) => {
    await runTrain(options);
  });
}

/** What a finished run reports (the last JSON line when piped). */
export interface TrainSummary {
  kind: 'done';
  out: string;
  steps: number;
  trainLoss: number | null;
  evalLoss: number | null;
  lossCurve: string;
}

export async function runTrain(options: TrainCommandOptions): Promise<TrainSummary> {
  const modelDir = options.model ?? DEFAULT_MODEL_DIR;
  await requireFolder(modelDir);
  const loaded = await loadModelFolder(modelDir, chosenBackend(options.backend));
  try {
    await enableGradients();
    const tokenizer = requireTokenizer(loaded);
    const trainData = await readDataset(options.data, options, loaded, tokenizer);
    const evalData = options.evalData
      ? await readDataset(options.evalData, options, loaded, tokenizer)
      : undefined;
    let progress: TrainProgress | undefined;
    const trainer = new Trainer(loaded, trainData, {
      ...trainerOptions(options),
      evalData,
      onLog: (entry) => progress?.log(entry),
    });
    try {
      if (options.resume) await trainer.resumeFrom(await checkpointToResume(options.resume));
      progress = trainProgress(trainer.totalSteps, { json: options.json === true });
      try {
        await trainer.train();
      } finally {
        progress.finish();
      }
      return await saveRun(options.out, loaded, trainer, jsonLines(options));
    } finally {
      trainer.optimizer.dispose();
    }
  } finally {
    loaded.model.dispose();
  }
}

/** The `Trainer` options the command line sets. */
export function trainerOptions(options: TrainCommandOptions): TrainerOptions {
  return {
    learningRate: options.lr,
    weightDecay: options.weightDecay,
    scheduler: options.scheduler,
    warmupSteps: options.warmupSteps,
    maxGradNorm: options.maxGradNorm,
    gradientAccumulationSteps: options.gradAccum,
    epochs: options.epochs,
    maxSteps: options.maxSteps,
    seed: options.seed,
    evalSteps: options.evalSteps,
    saveSteps: options.saveSteps,
    outputDir: options.out,
  };
}

/** Reads, tokenizes and batches one data file for `loaded` as the command line says. */
export async function readDataset(
  path: string,
  options: TrainCommandOptions,
  loaded: Pick<Pretrained, 'family' | 'generationConfig' | 'rawConfig'>,
  tokenizer: PretrainedTokenizer,
): Promise<TrainingDataset> {
  const examples = await readTextExamples(path);
  const task = loaded.family.task;
  const { eosTokenId, padTokenId } = loaded.generationConfig;
  const eos = Array.isArray(eosTokenId) ? eosTokenId[0] : (eosTokenId as number | null | undefined);
  const tokenized = tokenizeExamples(path, examples, tokenizer, { task, eosTokenId: eos ?? undefined });
  const maxPositions = describeConfig(loaded.rawConfig).description.maxPositions;
  const mode = options.batching ?? (examples[0]!.kind === 'text' ? 'pack' : 'pad');
  return trainingDataset(path, tokenized, {
    batchSize: options.batchSize,
    mode,
    blockSize: options.blockSize ?? Math.min(DEFAULT_BLOCK_SIZE, maxPositions ?? DEFAULT_BLOCK_SIZE),
    maxPositions,
    padTokenId: padTokenId ?? eos ?? 0,
    task,
  });
}

/**
 * `dir` itself when it holds a checkpoint (trainer_state.json), else its `checkpoint-<step>` folder of
 * the highest step; an InputFileError when there is none.
 */
async function checkpointToResume(dir: string): Promise<string> {
  await requireFolder(dir, 'checkpoint folder');
  if ((await inspectPath(join(dir, TRAINER_STATE_FILE_NAME))).kind === 'file') return dir;
  const steps = (await readdir(dir))
    .map((name) => /^checkpoint-(\d+)$/.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]));
  if (steps.length === 0) {
    throw new InputFileError(
      `${dir} holds no checkpoint (${TRAINER_STATE_FILE_NAME} or checkpoint-<step> folders)`,
    );
  }
  return join(dir, `checkpoint-${Math.max(...steps)}`);
}

/** The end of a run: the last checkpoint, the trained model folder in `out`, the loss curve. */
async function saveRun(
  out: string,
  loaded: LoadedModel,
  trainer: Trainer,
  json: boolean,
): Promise<TrainSummary> {
  const { state } = trainer;
  const last = join(out, `checkpoint-${state.globalStep}`);
  if ((await inspectPath(join(last, TRAINER_STATE_FILE_NAME))).kind !== 'file')
    await trainer.saveCheckpoint(last);
  await savePretrained(loaded, out);
  const lossCurve = join(out, LOSS_CURVE_FILE_NAME);
  await writeFile(lossCurve, lossCurveSvg(state.logHistory, `tsformer train: ${loaded.dir}`));
  const summary: TrainSummary = {
    kind: 'done',
    out,
    steps: state.globalStep,
    trainLoss: lastLoss(state, 'train'),
    evalLoss: lastLoss(state, 'eval'),
    lossCurve,
  };
  if (!json) {
    process.stderr.write(
      `trained ${summary.steps} steps: loss ${summary.trainLoss?.toFixed(4)}${summary.evalLoss === null ? '' : `, eval loss ${summary.evalLoss.toFixed(4)}`}; model in ${out}, loss curve ${lossCurve}\n`,
    );
  } else {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  return summary;
}

/** Whether the run reports in JSON lines: asked with `--json`, or stdout is not a terminal. */
function jsonLines(options: OutputOptions): boolean {
  return options.json === true || process.stdout.isTTY !== true;
}

function lastLoss(state: TrainerState, kind: 'train' | 'eval'): number | null {
  const entries = state.logHistory.filter((entry) => entry.kind === kind);
  return entries.at(-1)?.loss ?? null;
}
