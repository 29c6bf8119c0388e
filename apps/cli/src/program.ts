import { Command } from 'commander';
import { EXIT_OK, reportError } from './cli-errors.js';
import { registerBench } from './commands/bench.js';
import { registerChat } from './commands/chat.js';
import { registerCheckParity } from './commands/check-parity.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerGenerate } from './commands/generate.js';
import { registerInspect } from './commands/inspect.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';

/** Sets the command's exit status (check-parity with failures, ...); errors set theirs in `runCli`. */
export type SetStatus = (status: number) => void;

/** The `tsformer` program with every command. Commander errors are thrown (exitOverride), not exited on. */
export function buildProgram(setStatus: SetStatus): Command {
  const program = new Command('tsformer')
    .description(
      'Run Hugging Face transformer models on TensorFlow.js: generate, chat, inspect, check-parity, bench, train, serve, worker, enqueue.',
    )
    .exitOverride()
    // One line per error, in the same form as the command's own errors.
    .configureOutput({
      outputError: (text, write) =>
        write(
          `tsformer: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .configureHelp({ sortOptions: false });
  registerGenerate(program, setStatus);
  registerChat(program, setStatus);
  registerInspect(program, setStatus);
  registerCheckParity(program, setStatus);
  registerBench(program, setStatus);
  registerTrain(program, setStatus);
  registerServe(program, setStatus);
  registerWorker(program, setStatus);
  registerEnqueue(program, setStatus);
  return program;
}

/** Runs the command line `argv` (without `node` and the script) and returns the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let status = EXIT_OK;
  const program = buildProgram((code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (error) {
    return reportError(error, argv.includes('--debug'), process.stderr);
  }
}
