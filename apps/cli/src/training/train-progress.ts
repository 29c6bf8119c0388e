import type { TrainingLogEntry } from '@tsformer/training';

const BAR_WIDTH = 24;

/** Reports a training run as it goes: `log` for each step or evaluation, `finish` at the end. */
export interface TrainProgress {
  log(entry: TrainingLogEntry): void;
  finish(): void;
}

/**
 * On a terminal, one line redrawn in place on `stderr` (when it is one): step, bar, loss, learning rate and tokens/s
 * (evaluations print a line of their own). Piped, or with `json`, one JSON object per line on
 * `stdout` (`{"kind":"train","step":3,"loss":…,"learning_rate":…,"grad_norm":…,"tokens":…,"tokens_per_second":…}`)
 * for scripts to read. `now` gives milliseconds (tokens/s is measured between log calls).
 */
export function trainProgress(
  totalSteps: number,
  { json = false }: { json?: boolean } = {},
  streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
  now: () => number = () => performance.now(),
): TrainProgress {
  let last = now();
  let lastLine = '';
  const jsonLines = json || streams.stdout.isTTY !== true;
  const bar = streams.stderr.isTTY === true;
  return {
    log(entry) {
      const time = now();
      const seconds = Math.max((time - last) / 1000, 1e-9);
      last = time;
      if (jsonLines) {
        streams.stdout.write(`${JSON.stringify(jsonLine(entry, entry.tokens / seconds))}\n`);
        return;
      }
      if (!bar) return;
      if (entry.kind === 'eval') {
        clear();
        streams.stderr.write(
          `step ${entry.step}: eval loss ${entry.loss.toFixed(4)}, perplexity ${entry.perplexity.toFixed(2)}\n`,
        );
        return;
      }
      const filled = Math.round((entry.step / totalSteps) * BAR_WIDTH);
      lastLine =
        `step ${entry.step}/${totalSteps} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` +
        `loss ${entry.loss.toFixed(4)} · lr ${entry.learningRate.toExponential(2)} · ${Math.round(entry.tokens / seconds)} tok/s`;
      streams.stderr.write(`\r${lastLine}`);
    },
    finish() {
      clear();
    },
  };

  function clear() {
    if (lastLine) streams.stderr.write(`\r${' '.repeat(lastLine.length)}\r`);
    lastLine = '';
  }
}

/** A log entry in Hugging Face's snake_case, with the measured throughput for training steps. */
function jsonLine(entry: TrainingLogEntry, tokensPerSecond: number): Record<string, unknown> {
  if (entry.kind === 'eval') {
    const { kind, step, epoch, loss, perplexity, tokens } = entry;
    return { kind, step, epoch, loss, perplexity, tokens };
  }
  const { kind, step, epoch, loss, learningRate, gradNorm, tokens } = entry;
  return {
    kind,
    step,
    epoch,
    loss,
    learning_rate: learningRate,
    grad_norm: gradNorm,
    tokens,
    tokens_per_second: Math.round(tokensPerSecond),
  };
}
