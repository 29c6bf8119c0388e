import { BACKEND_NAMES, type BackendName, defaultBackendName } from '@tsformer/core-tensor';
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
