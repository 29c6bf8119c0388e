import { BACKEND_NAMES, type BackendName, defaultBackendName } from '@tsformer/core-tensor';
import { LOWER_PRECISION_DTYPES, type LowerPrecisionDtype } from '@tsformer/models';
import { type Command, Option } from 'commander';

/** Options every command takes. */
export interface OutputOptions {
  /** One JSON document on stdout instead of text, for scripts. */
  json?: boolean;
  /** Stack traces with errors. */
  debug?: boolean;
}

/** Adds `--json` and `--debug` to a command. */
export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('--debug', 'show stack traces with errors');
}

/** Adds `--backend` (default: TSFORMER_BACKEND, else wasm in Node) to a command that runs a model. */
export function addBackendOption(command: Command): Command {
  return command.addOption(
    new Option('--backend <name>', 'tensor backend (default: $TSFORMER_BACKEND, else wasm)').choices(
      BACKEND_NAMES,
    ),
  );
}

/** The backend to use: the option when given, else the environment's default. */
export function chosenBackend(option: BackendName | undefined): BackendName {
  return option ?? defaultBackendName();
}

/** Options of a command that loads a model to run it. */
export interface ModelRunOptions {
  backend?: BackendName;
  /** Opt-in lower-precision weights (fromPretrained's `dtype`). */
  dtype?: LowerPrecisionDtype;
}

/**
 * Adds `--backend` and `--dtype` (opt-in lower-precision weights on the CPU kernels: bf16, or int8
 * with per-channel scales; default the checkpoint's own) to a command that runs a model.
 */
export function addModelRunOptions(command: Command): Command {
  return addBackendOption(command).addOption(
    new Option(
      '--dtype <dtype>',
      'hold linear weights in lower precision on the wasm/cpu kernels (opt-in; changes outputs: see packages/kernels/README.md)',
    ).choices(LOWER_PRECISION_DTYPES),
  );
}
