// GELU's tanh form, y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2's gelu_new), four floats
// at a time. Every step but tanh is the float32 operation tfjs's portable formula performs, in the
// same order (x³ as x·x·x, then × 0.044715, + x, × √(2/π); x × 0.5, then × (1 + t)); tanh itself is
// computed here to within a few float32 units in the last place (tfjs's wasm backend calls a scalar
// libm tanh per element, most of the activation's time in a GPT-2 prefill).
//
// tanh(z), a = |z|:
// - a < 0.625: the odd Taylor series z·(1 − z²/3 + 2z⁴/15 − …) through z¹⁹; its terms shrink by about
//   (2a/π)² ≤ 0.16 each, so the truncation is below 2⁻²⁸ of the result;
// - a ≥ 0.625: 1 − 2/(e^{2a} + 1), with e^{2a} by range reduction (2a = n·ln 2 + r, |r| ≤ ln2 / 2,
//   ln 2 split in two so n·ln2 is exact) and a degree-7 polynomial in r (truncation ≤ 2⁻²⁶), scaled by
//   2ⁿ through the exponent bits; a ≥ 9 gives 1 (tanh rounds to 1 in float32 from 9.01);
// - the sign is z's.

const LOG2E: f32 = 1.4426950408889634;
const LN2_HIGH: f32 = 0.693145751953125; // ln 2's leading 16 bits: n · LN2_HIGH is exact for |n| < 2⁸
const LN2_LOW: f32 = 1.428606765330187e-6; // ln 2 − LN2_HIGH
const SERIES_LIMIT: f32 = 0.625;
const SATURATION: f32 = 9;

/** e^v for 0 ≤ v ≤ 18, four at a time. */
@inline
function exp4(v: v128): v128 {
  const n = f32x4.nearest(f32x4.mul(v, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HIGH))), f32x4.mul(n, f32x4.splat(LN2_LOW)));
  // e^r = 1 + r + r²/2! + … + r⁷/7!, Horner.
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  // × 2ⁿ: n added to the exponent field.
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** tanh(z) by its Taylor series, for |z| < SERIES_LIMIT: z·(1 + s·(c1 + s·(c2 + …))), s = z². */
@inline
function tanhSeries(z: v128): v128 {
  const s = f32x4.mul(z, z);
  let p = f32x4.splat(<f32>(-443861162.0 / 1856156927625.0));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(6404582.0 / 10854718875.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-929569.0 / 638512875.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(21844.0 / 6081075.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-1382.0 / 155925.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(62.0 / 2835.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-17.0 / 315.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(2.0 / 15.0)));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-1.0 / 3.0)));
  return f32x4.add(z, f32x4.mul(z, f32x4.mul(p, s)));
}

/** tanh(z) as ±(1 − 2/(e^{2|z|} + 1)), |z| clamped where tanh is 1 in float32, then z's sign. */
@inline
function tanhExponential(z: v128, a: v128): v128 {
  const e = exp4(f32x4.mul(f32x4.min(a, f32x4.splat(SATURATION)), f32x4.splat(2)));
  const magnitude = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  return v128.or(magnitude, v128.and(z, i32x4.splat(0x80000000)));
}

/** tanh(z), four at a time (see the file's comment): both forms, each lane takes its own. */
@inline
function tanh4(z: v128): v128 {
  const a = f32x4.abs(z);
  return v128.bitselect(tanhSeries(z), tanhExponential(z, a), f32x4.lt(a, f32x4.splat(SERIES_LIMIT)));
}

/**
 * y[k] = gelu_new(x[k]) for k < count, in whole groups of four (`x` and `y` hold `count` rounded up to
 * a multiple of 4 floats: the caller's blocks are padded to cache lines).
 */
export function geluTanh(x: usize, count: i32, y: usize): void {
  const end = x + (<usize>((count + 3) & ~3) << 2);
  for (let p = x, q = y; p < end; p += 16, q += 16) {
    const v = v128.load(p);
    const cube = f32x4.mul(f32x4.mul(v, v), v);
    const inner = f32x4.mul(
      f32x4.add(v, f32x4.mul(cube, f32x4.splat(<f32>0.044715))),
      f32x4.splat(<f32>0.7978845608028654),
    );
    const t = tanh4(inner);
    v128.store(q, f32x4.mul(f32x4.mul(v, f32x4.splat(0.5)), f32x4.add(f32x4.splat(1), t)));
  }
}
