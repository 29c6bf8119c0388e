import { TsformerError, WeightLoadingError } from './errors.js';
import { matchesName, type NamePattern } from './name-pattern.js';
import { Parameter, type ParameterOptions, sameShape } from './parameter.js';
import { SeededRandom } from './random.js';
import type { WeightSource } from './weight-source.js';

export interface LoadWeightsOptions {
  /** Throw on any missing, unexpected or mis-shaped tensor (default true). */
  strict?: boolean;
  /**
   * Maps a checkpoint name to this module's name for it, or `null` to ignore the tensor
   * (a family's short list of exceptions; see DESIGN.md "Weight names come from the module tree").
   */
  mapName?: (checkpointName: string) => string | null;
  /**
   * Match names and shapes only: read no tensor bytes and assign nothing (`tsformer inspect` checks a
   * checkpoint against its config this way). `loaded` then lists what would load; with `strict`, the
   * same `WeightLoadingError` loading would throw is thrown.
   */
  dryRun?: boolean;
  /**
   * Loads one checkpoint tensor into its parameter in place of `parameter.assign(await
   * source.read(checkpointName))` — a backend's kernels packing it straight from the checkpoint's
   * bytes — or resolves false to leave it to that default.
   */
  loadParameter?: (parameter: Parameter, checkpointName: string, source: WeightSource) => Promise<boolean>;
}

/** A checkpoint tensor whose shape differs from the parameter it maps to. */
export interface MisShapedTensor {
  name: string;
  expected: readonly number[];
  actual: readonly number[];
}

export interface LoadWeightsReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  ignored: string[];
  /** Empty unless not `strict` (a strict load throws instead). */
  misShaped: MisShapedTensor[];
}

/**
 * Base class of every layer and model: children and parameters are registered under their
 * Hugging Face names, so weight paths (`model.layers.3.self_attn.q_proj.weight`) come from the tree.
 */
/** Options of `Module.train`. */
export interface TrainOptions {
  /** Starts the dropout masks' seed stream anew from this integer (as `torch.manual_seed` before training). */
  seed?: number;
}

const DEFAULT_DROPOUT_SEED = 0;

export abstract class Module {
  private readonly children = new Map<string, Module>();
  private readonly ownParameters = new Map<string, Parameter>();
  private trainingMode = false;
  /** The stream dropout masks draw their seeds from, shared by the tree `train()` was called on. */
  private dropoutNoise: SeededRandom | undefined;

  /** Registers a child module under `name` and returns it. */
  protected register<M extends Module>(name: string, child: M): M {
    this.assertFreeName(name);
    this.children.set(name, child);
    return child;
  }

  /**
   * Registers a parameter of the checkpoint's `shape` (or shares an existing one, for tied weights)
   * under `name`.
   */
  protected parameter(
    name: string,
    shapeOrShared: readonly number[] | Parameter,
    options?: ParameterOptions,
  ): Parameter {
    this.assertFreeName(name);
    const parameter =
      shapeOrShared instanceof Parameter ? shapeOrShared : new Parameter(shapeOrShared, options);
    this.ownParameters.set(name, parameter);
    return parameter;
  }

  private assertFreeName(name: string): void {
    if (name === '' || name.includes('.') || this.children.has(name) || this.ownParameters.has(name)) {
      throw new TsformerError(
        `cannot register "${name}" on ${this.constructor.name}: empty, dotted or taken`,
      );
    }
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** This module and every descendant, depth first (PyTorch's `modules()`). */
  *modules(): IterableIterator<Module> {
    yield this;
    for (const child of this.children.values()) yield* child.modules();
  }

  /** Every parameter with its full dotted path; a tied parameter appears under each of its names. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const named: [string, Parameter][] = [];
    for (const [name, parameter] of this.ownParameters) named.push([prefix + name, parameter]);
    for (const [name, child] of this.children) named.push(...child.namedParameters(`${prefix}${name}.`));
    return named;
  }

  /** Every distinct parameter once (tied weights counted once, as PyTorch's `parameters()`). */
  parameters(): Parameter[] {
    return [...new Set(this.namedParameters().map(([, parameter]) => parameter))];
  }

  numParameters(): number {
    return this.parameters().reduce((total, parameter) => total + parameter.size, 0);
  }

  /**
   * Stops gradients for every parameter whose name matches `pattern` (every parameter when omitted),
   * as setting PyTorch's `requires_grad = False`; returns the matching names. A tied weight is one
   * parameter: freezing it under one name freezes it under all.
   */
  freeze(pattern?: NamePattern): string[] {
    return this.setRequiresGrad(false, pattern);
  }

  /** Undoes `freeze` for the parameters whose name matches `pattern` (all when omitted). */
  unfreeze(pattern?: NamePattern): string[] {
    return this.setRequiresGrad(true, pattern);
  }

  /**
   * Makes every parameter that requires a gradient a `tf.Variable` (`Parameter.makeTrainable`) and
   * returns them as PyTorch's `named_parameters()` lists trainable ones: each distinct parameter once,
   * under its first name. Every parameter must be loaded.
   */
  makeTrainable(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const trainable: [string, Parameter][] = [];
    for (const [name, parameter] of this.namedParameters()) {
      if (seen.has(parameter)) continue;
      seen.add(parameter);
      if (!parameter.requiresGrad) continue;
      if (!parameter.isSet) throw new TsformerError(`cannot train ${name}: it was never loaded`);
      parameter.makeTrainable();
      trainable.push([name, parameter]);
    }
    return trainable;
  }

  private setRequiresGrad(requiresGrad: boolean, pattern: NamePattern | undefined): string[] {
    const names: string[] = [];
    for (const [name, parameter] of this.namedParameters()) {
      if (pattern !== undefined && !matchesName(name, pattern)) continue;
      parameter.requiresGrad = requiresGrad;
      names.push(name);
    }
    return names;
  }

  get training(): boolean {
    return this.trainingMode;
  }

  /**
   * Switches this module and every descendant to training mode (dropout on), as PyTorch's `train()`,
   * or back with `train(false)`; it changes no parameter (gradients come from `makeTrainable`).
   * Dropout masks are seeded: the tree shares one stream of seeds, started anew by `train({ seed })`
   * (from 0 the first time when no seed is given) and kept across later `train()` / `eval()` calls,
   * so a run is reproducible and successive steps draw different masks.
   */
  train(modeOrOptions: boolean | TrainOptions = true): this {
    const [mode, seed] =
      typeof modeOrOptions === 'boolean' ? [modeOrOptions, undefined] : [true, modeOrOptions.seed];
    const noise =
      seed !== undefined
        ? new SeededRandom(seed)
        : (this.dropoutNoise ?? new SeededRandom(DEFAULT_DROPOUT_SEED));
    this.setTraining(mode, noise);
    return this;
  }

  private setTraining(mode: boolean, noise: SeededRandom): void {
    this.trainingMode = mode;
    this.dropoutNoise = noise;
    for (const child of this.children.values()) child.setTraining(mode, noise);
  }

  /**
   * The seed of the next dropout mask, from the stream `train()` started (for `tf.dropout` and
   * attention's `dropoutSeed`); masks in one forward are drawn in the order the layers run.
   */
  protected nextDropoutSeed(): number {
    this.dropoutNoise ??= new SeededRandom(DEFAULT_DROPOUT_SEED);
    return this.dropoutNoise.nextUint32();
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Loads weights by name. Every problem (missing, unexpected, mis-shaped) is collected and reported
   * in one error before any tensor bytes are read; tensors are then read and assigned one at a time
   * (none with `dryRun`).
   */
  async loadWeights(source: WeightSource, options: LoadWeightsOptions = {}): Promise<LoadWeightsReport> {
    const { strict = true, mapName = (name: string) => name, dryRun = false } = options;
    const byName = new Map(this.namedParameters());
    const plan = new Map<Parameter, string>();
    const misShaped: MisShapedTensor[] = [];
    const report: LoadWeightsReport = { loaded: [], missing: [], unexpected: [], ignored: [], misShaped };

    for (const checkpointName of source.names()) {
      const name = mapName(checkpointName);
      if (name === null) {
        report.ignored.push(checkpointName);
        continue;
      }
      const parameter = byName.get(name);
      if (!parameter) {
        report.unexpected.push(checkpointName);
        continue;
      }
      const actual = source.shape(checkpointName);
      if (!sameShape(actual, parameter.shape)) {
        misShaped.push({ name: checkpointName, expected: parameter.shape, actual });
        continue;
      }
      if (!plan.has(parameter)) plan.set(parameter, checkpointName);
    }
    // A parameter is missing when none of its names arrived (tied weights arrive under either name).
    const accounted = new Set<Parameter>([
      ...plan.keys(),
      ...misShaped.map((m) => byName.get(mapName(m.name)!)!),
    ]);
    for (const [name, parameter] of byName) {
      if (accounted.has(parameter)) continue;
      report.missing.push(name);
      accounted.add(parameter);
    }
    if (strict && (report.missing.length > 0 || report.unexpected.length > 0 || misShaped.length > 0)) {
      throw new WeightLoadingError(report.missing, report.unexpected, misShaped, source.location);
    }
    if (dryRun) {
      report.loaded.push(...plan.values());
      return report;
    }
    const { loadParameter } = options;
    for (const [parameter, checkpointName] of plan) {
      const loaded = loadParameter !== undefined && (await loadParameter(parameter, checkpointName, source));
      if (!loaded) parameter.assign(await source.read(checkpointName));
      report.loaded.push(checkpointName);
    }
    return report;
  }

  /**
   * Frees this module's parameters, then each child through its own `dispose` (so a module holding
   * other tensors, such as rotary tables, frees them by overriding this). Freeing twice is harmless.
   */
  dispose(): void {
    for (const parameter of this.ownParameters.values()) parameter.dispose();
    for (const child of this.children.values()) child.dispose();
  }
}

/** An indexed list of modules, named `0`, `1`, … as PyTorch's `nn.ModuleList`. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((item, index) => this.register(String(index), item));
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): M {
    const item = this.items[index];
    if (!item) throw new TsformerError(`no module at index ${index} of ${this.items.length}`);
    return item;
  }
}
