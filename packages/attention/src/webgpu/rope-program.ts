import type { WebgpuProgram } from '@tsformer/kernels';

const THREADS = 64;

/**
 * HF's `apply_rotary_pos_emb` on one tensor `x` `[batch, heads, seq, headDim]`: on channels below `width`
 * (uniform), `x · cos + rotate_half(x) · sin` with `cos`, `sin` `[batch, seq, rotaryWidth]`; channels from
 * `width` on are copied (partial rotary; `width` 0 copies everything: a value into the cache). The result
 * is `[batch, heads, targetLength, headDim]` with `x`'s positions written from `offset` on — `x`'s own shape
 * at offset 0, or a cache block written in place (`runProgramInPlace`).
 */
export class RopeProgram implements WebgpuProgram {
  readonly variableNames = ['x', 'cos', 'sin'];
  readonly outputShape: number[];
  readonly shaderKey = 'tsformerRope';
  readonly dispatchLayout = { x: [0, 1, 2, 3] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'elements : i32, width : i32, targetLength : i32, offset : i32,';

  /** `shape`: `x`'s; `targetLength`: the positions of the tensor written (`shape[2]` for a new one). */
  constructor(shape: readonly [number, number, number, number], targetLength: number) {
    const [batch, heads, , headDim] = shape;
    this.outputShape = [batch, heads, targetLength, headDim];
    this.dispatch = [Math.ceil(shape.reduce((total, size) => total * size, 1) / THREADS), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.elements) { return; }
        let headDim = uniforms.xShape[3];
        let seq = uniforms.xShape[2];
        let heads = uniforms.xShape[1];
        let d = index % headDim;
        let s = (index / headDim) % seq;
        let bh = index / (headDim * seq);
        let b = bh / heads;
        let value = x[index];
        var out = value;
        if (d < uniforms.width) {
          let half = uniforms.width / 2;
          var rotated = 0.0;
          if (d < half) { rotated = -x[index + half]; } else { rotated = x[index - half]; }
          let angle = (b * seq + s) * uniforms.cosShape[2] + d;
          out = value * cos[angle] + rotated * sin[angle];
        }
        result[(bh * uniforms.targetLength + uniforms.offset + s) * headDim + d] = out;
      }
    `;
  }
}
