import type { BackendName } from '@tsformer/core-tensor';
import { useBackend } from '@tsformer/core-tensor';
import type { Command } from 'commander';
import { EXIT_FAILURE } from '../cli-errors.js';
import { addBackendOption, addOutputOptions, chosenBackend, type OutputOptions } from '../common-options.js';
import { loadModelFolder } from '../model-folder.js';
import { nonNegativeNumber } from '../option-parsers.js';
import { printJson } from '../output.js';
import { type CheckResult, formatCheck, tally } from '../parity/check-result.js';
import { checkForwardTensors } from '../parity/forward-checks.js';
import { checkGenerateCases, checkParameterCount, checkTokenization } from '../parity/model-checks.js';
import { checkProcessors } from '../parity/processor-checks.js';
import { openReferenceFolder, type ReferenceFolder } from '../parity/reference-folder.js';
import { checkTraining } from '../parity/training-checks.js';
import type { SetStatus } from '../program.js';

interface CheckParityOptions extends OutputOptions {
  backend?: BackendName;
  atol?: number;
}

export function registerCheckParity(program: Command, setStatus: SetStatus): void {
  const command = program
    .command('check-parity')
    .description(
      'check a folder in the format of fixtures/hf-reference (a model folder with reference.json and ' +
        'reference.safetensors, and training.json (+ training-float64.*) when present, or the processors folder) against what ' +
        'Hugging Face and PyTorch computed; ' +
        'one line per check, then "N passed, M failed"',
    )
    .argument('<dir>', 'the reference folder')
    .option(
      '--atol <x>',
      "tolerance of forward tensors (default: reference.json's atol, else 1e-4)",
      nonNegativeNumber,
    );
  addBackendOption(command);
  addOutputOptions(command);
  command.action(async (dir: string, options: CheckParityOptions) => {
    const folder = await openReferenceFolder(dir, options.atol);
    const results = await runChecks(folder, chosenBackend(options.backend), options.json === true);
    const { passed, failed } = tally(results);
    if (options.json) printJson({ folder: dir, atol: folder.atol, checks: results, passed, failed });
    else process.stdout.write(`${passed} passed, ${failed} failed\n`);
    if (failed > 0) setStatus(EXIT_FAILURE);
  });
}

/** Runs every check the folder has reference data for; prints each line as it is known unless `quiet`. */
async function runChecks(
  folder: ReferenceFolder,
  backend: BackendName,
  quiet: boolean,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (batch: CheckResult[]) => {
    results.push(...batch);
    if (!quiet) for (const result of batch) process.stdout.write(`${formatCheck(result)}\n`);
  };
  if (folder.kind === 'processors') {
    await useBackend(backend);
    report(await checkProcessors(folder));
    return results;
  }
  const loaded = await loadModelFolder(folder.dir, backend);
  try {
    report(await checkTokenization(folder, loaded.tokenizer));
    report(checkParameterCount(folder, loaded.model));
    report(await checkForwardTensors(folder, loaded.model));
    report(await checkGenerateCases(folder, loaded.model));
    report(await checkTraining(folder.dir, loaded.model)); // last: it trains the model
  } finally {
    loaded.model.dispose();
  }
  return results;
}
