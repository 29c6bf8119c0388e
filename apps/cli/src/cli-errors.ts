import { TsformerError } from '@tsformer/core-tensor';
import { CommanderError } from 'commander';

/** Exit statuses of the `tsformer` command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line itself is wrong (an option value out of range, a missing argument): exit status 2. */
export class UsageError extends TsformerError {
  override name = 'UsageError';
}

/** A file or folder named on the command line is missing or unreadable: exit status 1. */
export class InputFileError extends TsformerError {
  override name = 'InputFileError';
}

/**
 * Reports `error` on stderr and returns the exit status. Without `debug` that is one line saying
 * what went wrong and where (the library errors' messages name the file, field or tensor);
 * with `debug` the stack trace follows.
 */
export function reportError(error: unknown, debug: boolean, stderr: NodeJS.WritableStream): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text) on the right stream.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const known = TsformerError.isInstance(error);
  const message = error instanceof Error ? error.message : String(error);
  const kind = known ? '' : `${error instanceof Error ? error.name : 'Error'}: `;
  const hint = known || debug ? '' : ' (an unexpected error: run again with --debug for the stack trace)';
  stderr.write(`tsformer: ${kind}${firstLine(message)}${hint}\n`);
  if (debug && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return UsageError.isInstance(error) ? EXIT_USAGE : EXIT_FAILURE;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.trim();
}
