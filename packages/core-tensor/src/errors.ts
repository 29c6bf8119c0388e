/** Base class of every error tsformer throws on purpose: catch this to tell bad input from bugs. */
export class TsformerError extends Error {
  override name = 'TsformerError';
}

/** A backend was asked for that cannot run here (package absent, no GPU adapter, ...). */
export class BackendUnavailableError extends TsformerError {
  override name = 'BackendUnavailableError';
}

/** Weights that do not fit a module: every missing, unexpected and mis-shaped tensor, by name. */
export class WeightLoadingError extends TsformerError {
  override name = 'WeightLoadingError';
  constructor(
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misShaped: readonly { name: string; expected: readonly number[]; actual: readonly number[] }[],
    where: string,
  ) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.length}: ${listNames(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length}: ${listNames(unexpected)}`);
    if (misShaped.length > 0) {
      const shapes = misShaped.map((m) => `${m.name} is [${m.actual}] but the model needs [${m.expected}]`);
      parts.push(`mis-shaped ${misShaped.length}: ${listNames(shapes)}`);
    }
    super(`weights in ${where} do not fit the model: ${parts.join('; ')}`);
  }
}

function listNames(names: readonly string[], limit = 12): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown}, … (${names.length - limit} more)` : shown;
}
