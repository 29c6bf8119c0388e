/**
 * Hugging Face activations (`ACT2FN` names) as WGSL expressions of `v`, for kernels that apply one in
 * their epilogue. Names not here are left to the portable ops. The tanh forms clamp the argument to
 * ±15, where float32 tanh is ±1 already, so no implementation overflows `exp`; erf is Abramowitz and
 * Stegun 7.1.26 (absolute error below 1.5e-7, the approximation tfjs's own erf kernels use).
 */
const GELU_TANH =
  '0.5 * v * (1.0 + tanh(clamp(0.7978845608028654 * (v + 0.044715 * v * v * v), -15.0, 15.0)))';
const EXPRESSIONS: Readonly<Record<string, string>> = {
  silu: 'v / (1.0 + exp(-v))',
  swish: 'v / (1.0 + exp(-v))',
  gelu: '0.5 * v * (1.0 + erfApprox(v * 0.7071067811865476))',
  gelu_python: '0.5 * v * (1.0 + erfApprox(v * 0.7071067811865476))',
  gelu_new: GELU_TANH,
  gelu_pytorch_tanh: GELU_TANH,
  gelu_python_tanh: GELU_TANH,
  gelu_accurate: GELU_TANH,
  gelu_fast: '0.5 * v * (1.0 + tanh(clamp(0.7978845608 * v * (1.0 + 0.044715 * v * v), -15.0, 15.0)))',
  quick_gelu: 'v / (1.0 + exp(-1.702 * v))',
  relu: 'max(v, 0.0)',
};

const ERF = `
  fn erfApprox(a : f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(a));
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    return sign(a) * (1.0 - poly * exp(-a * a));
  }
`;

/** Whether the WGSL kernels can apply the activation HF calls `name`. */
export function hasWgslActivation(name: string): boolean {
  return Object.hasOwn(EXPRESSIONS, name);
}

/** `fn activate(v : f32) -> f32` for the activation `name` (one `hasWgslActivation` accepts), with its helpers. */
export function wgslActivation(name: string): string {
  const expression = EXPRESSIONS[name];
  if (expression === undefined) throw new Error(`no WGSL form of the activation ${name}`);
  return `${expression.includes('erfApprox') ? ERF : ''}
    fn activate(v : f32) -> f32 { return ${expression}; }`;
}
