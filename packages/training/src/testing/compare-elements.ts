/** The tolerance of an element around the value it is compared with (absolute, or relative to it). */
export type Tolerance = (expected: number) => number;

/** The float64 values of a reference tensor (or scalar) and how far PyTorch's float32 runs went from them. */
export interface Float64Values {
  values: ArrayLike<number>;
  /**
   * PyTorch's float32 spread: the largest |float32 − float64| over the tensor's elements and over
   * PyTorch's float32 runs (CPU, the fixture, and CUDA).
   */
  spread: number;
  /** The allowance is `tolerance(float64) + spreadFactor · spread` (TRAINING_TOLERANCE). */
  spreadFactor: number;
}

/** How `ours` compares with PyTorch's float32 values, element by element. */
export interface ElementComparison {
  elements: number;
  failures: number;
  /** The largest |ours − PyTorch|. */
  worstDifference: number;
  /** With float64 values: the largest |ours − float64|. */
  worstFromExact?: number;
  /** Elements further from PyTorch than the tolerance that the float64 rule passes. */
  byFloat64: number;
}

/**
 * Compares `ours` with PyTorch's float32 values `pytorch`. The plain rule (no `exact`): an element
 * passes within `tolerance(pytorch)` of PyTorch's value. The float64 rule (`exact`, the same training
 * redone in float64): an element passes when |ours − float64| <= tolerance(float64) + spreadFactor ·
 * spread, that is when we are as close to the exact answer as PyTorch's own float32 runs are on that
 * tensor, within the scatter float32 shows between two implementations (training's README, "Judged
 * against float64"). Where float32 is accurate (spread far below the tolerance) that is the
 * tolerance around the exact value; where it is not (AdamW's g / (√v + eps) of a gradient near zero,
 * an ill-conditioned step), it is how far float32 itself goes.
 */
export function compareElements(
  ours: ArrayLike<number>,
  pytorch: ArrayLike<number>,
  exact: Float64Values | undefined,
  tolerance: Tolerance,
): ElementComparison {
  const result: ElementComparison = { elements: ours.length, failures: 0, worstDifference: 0, byFloat64: 0 };
  if (exact) result.worstFromExact = 0;
  for (let i = 0; i < ours.length; i++) {
    const [o, p] = [ours[i]!, pytorch[i]!];
    const difference = Math.abs(o - p);
    if (!(difference <= result.worstDifference)) result.worstDifference = difference;
    const plainPass = difference <= tolerance(p);
    if (!exact) {
      if (!plainPass) result.failures++;
      continue;
    }
    const x = exact.values[i]!;
    const fromExact = Math.abs(o - x);
    if (!(fromExact <= result.worstFromExact!)) result.worstFromExact = fromExact;
    const pass = fromExact <= tolerance(x) + exact.spreadFactor * exact.spread;
    if (!pass) result.failures++;
    else if (!plainPass) result.byFloat64++;
  }
  return result;
}

/** One line of evidence: the worst differences and, with float64, how many elements it judged. */
export function describeComparison(
  comparison: ElementComparison,
  exact: Float64Values | undefined,
  tolerance: string,
): string {
  const { elements, failures, worstDifference, worstFromExact, byFloat64 } = comparison;
  const off = failures > 0 ? `${failures} of ${elements} elements off; ` : '';
  const fromPytorch = `max |diff| ${worstDifference.toExponential(2)}`;
  if (!exact || worstFromExact === undefined) return `${off}${fromPytorch} (${tolerance})`;
  return (
    `${off}${fromPytorch} from PyTorch; from float64 ${worstFromExact.toExponential(2)}, ` +
    `PyTorch float32 ${exact.spread.toExponential(2)} (${tolerance} + ${exact.spreadFactor} x PyTorch's); ` +
    `${byFloat64} elements passed by the float64 rule alone`
  );
}
