// Rotary position embedding (HF's `apply_rotary_pos_emb`, the `rotate_half` form) on one tensor:
//   out[d] = x[d]·cos[d] − x[d + half]·sin[d],  out[d + half] = x[d + half]·cos[d + half] + x[d]·sin[d]
// for d < half = width / 2, channels from `width` on copied unchanged (partial rotary). Each output is
// the float32 sum of two rounded float32 products, as tfjs's mul, mul, add compute it.

/**
 * output = rope(x) for x [batch, heads, seq, headDim] with cos and sin [batch, seq, width] (width even,
 * ≤ headDim): every position of every head takes its row's angles.
 */
export function rotateHalves(
  x: usize,
  cos: usize,
  sin: usize,
  output: usize,
  batch: i32,
  heads: i32,
  seq: i32,
  headDim: i32,
  width: i32,
): void {
  const half = width >> 1;
  const headBytes = <usize>headDim << 2;
  const halfBytes = <usize>half << 2;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < seq; t++) {
        const row = <usize>((b * heads + h) * seq + t) * headBytes;
        const angles = <usize>(b * seq + t) * (<usize>width << 2);
        const first = x + row;
        const second = first + halfBytes;
        const c = cos + angles;
        const s = sin + angles;
        for (let d = 0; d < half; d++) {
          const at = <usize>d << 2;
          const x1 = load<f32>(first + at);
          const x2 = load<f32>(second + at);
          store<f32>(output + row + at, x1 * load<f32>(c + at) + -x2 * load<f32>(s + at));
          store<f32>(output + row + halfBytes + at, x2 * load<f32>(c + halfBytes + at) + x1 * load<f32>(s + halfBytes + at));
        }
        if (width < headDim) {
          const rotary = <usize>width << 2;
          memory.copy(output + row + rotary, x + row + rotary, headBytes - rotary);
        }
      }
    }
  }
}
