import type { WgslKernel } from '@tsformer/kernels';

const THREADS = 64;

/**
 * WGSL that sets `var out` to channel `d` of one head's vector in `source` (element `source[at]`) under
 * RoPE: `x · cos + rotate_half(x) · sin` on the first `uniforms.width` channels, copied past them. Needs
 * `b`, `s` and `d` in scope and `cos`, `sin` `[batch, seq, width]` bound; a head's channels are contiguous.
 */
export function rotatedChannel(source: string, at: string): string {
  return `var out = ${source}[${at}];
        if (d < uniforms.width) {
          let half = uniforms.width / 2;
          var rotated = 0.0;
          if (d < half) { rotated = -${source}[${at} + half]; } else { rotated = ${source}[${at} - half]; }
          let angle = (b * uniforms.seq + s) * uniforms.width + d;
          out = out * cos[angle] + rotated * sin[angle];
        }`;
}

/**
 * WGSL for element `i` of `source` `[batch, heads, seq, headDim]`: rotated (or copied) into `target`
 * `[batch, heads, targetLength, headDim]` at position `offset + s`.
 */
function rotateInto(
  source: string,
  target: string,
  headsUniform: string,
  rotate: boolean,
  targetLength: string,
  offset: string,
): string {
  const value = rotate ? rotatedChannel(source, 'i') : `let out = ${source}[i];`;
  return `{
        let headDim = uniforms.headDim;
        let d = i % headDim;
        let s = (i / headDim) % uniforms.seq;
        let bh = i / (headDim * uniforms.seq);
        let b = bh / ${headsUniform};
        ${value}
        ${target}[(bh * ${targetLength} + ${offset} + s) * headDim + d] = out;
      }`;
}

const kernels = new Map<string, WgslKernel>();

/**
 * HF's `apply_rotary_pos_emb` and the cache write in one dispatch: `x · cos + rotate_half(x) · sin` on
 * the first `width` channels (the rest copied: partial rotary) of the query `[batch, heads, seq, headDim]`
 * into a new `rotatedQuery`, and of the key `[batch, kvHeads, seq, headDim]` into `rotatedKey`; `cos`,
 * `sin` `[batch, seq, width]`. `inPlace`: the key and the value (copied) go straight into a cache block
 * `[batch, kvHeads, targetLength, headDim]` at positions `offset …` (`keyBlock`, `valueBlock` written in
 * place); otherwise `rotatedKey` is `[batch, kvHeads, seq, headDim]` (`targetLength = seq`, `offset = 0`)
 * and the value is left alone. One thread per element of query, key (and value). Workgroups:
 * `ceil(elements / 64)`.
 */
export function ropeKernel(inPlace: boolean): WgslKernel {
  const key = `tsformerRopeAppend_${inPlace}`;
  let kernel = kernels.get(key);
  if (kernel) return kernel;
  const keyTarget = inPlace ? 'keyBlock' : 'rotatedKey';
  kernel = {
    key,
    outputs: [
      { name: 'rotatedQuery', type: 'f32' },
      { name: keyTarget, type: 'f32' },
      ...(inPlace ? [{ name: 'valueBlock', type: 'f32' as const }] : []),
    ],
    inputs: [
      { name: 'query', type: 'f32' },
      { name: 'key', type: 'f32' },
      ...(inPlace ? [{ name: 'value', type: 'f32' as const }] : []),
      { name: 'cos', type: 'f32' },
      { name: 'sin', type: 'f32' },
    ],
    uniforms: [
      { name: 'queryElements', type: 'i32' },
      { name: 'keyElements', type: 'i32' },
      { name: 'heads', type: 'i32' },
      { name: 'kvHeads', type: 'i32' },
      { name: 'seq', type: 'i32' },
      { name: 'headDim', type: 'i32' },
      { name: 'width', type: 'i32' },
      { name: 'targetLength', type: 'i32' },
      { name: 'offset', type: 'i32' },
    ],
    workgroupSize: THREADS,
    body: `
      let queryElements = uniforms.queryElements;
      let keyElements = uniforms.keyElements;
      if (globalIndex < queryElements) {
        let i = globalIndex;
        ${rotateInto('query', 'rotatedQuery', 'uniforms.heads', true, 'uniforms.seq', '0')}
      } else if (globalIndex < queryElements + keyElements) {
        let i = globalIndex - queryElements;
        ${rotateInto('key', keyTarget, 'uniforms.kvHeads', true, 'uniforms.targetLength', 'uniforms.offset')}
      }${
        inPlace
          ? ` else if (globalIndex < queryElements + 2 * keyElements) {
        let i = globalIndex - queryElements - keyElements;
        ${rotateInto('value', 'valueBlock', 'uniforms.kvHeads', false, 'uniforms.targetLength', 'uniforms.offset')}
      }`
          : ''
      }`,
  };
  kernels.set(key, kernel);
  return kernel;
}
