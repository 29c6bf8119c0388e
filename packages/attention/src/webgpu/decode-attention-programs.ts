import type { WebgpuProgram } from '@tsformer/kernels';

/** Keys one workgroup scores: one per thread, then a tree over the workgroup. */
export const KEYS_PER_CHUNK = 64;

/** Per (row, query head, chunk) of a split: the chunk's running max, its sum of exponentials, then `headDim` sums. */
export function partialWidth(headDim: number): number {
  return headDim + 2;
}

/** f32's lowest finite value: the max of a chunk that scores nothing yet. */
const LOWEST = '-3.402823466e38';

/**
 * Decode attention over some cache blocks, split into chunks of `KEYS_PER_CHUNK` keys (flash-decoding's
 * first pass): workgroup (chunk, query head h, row b) scores its keys against row b's query of head h
 * (`cap(q·k · scale) + mask`, kv head `h / groups` for grouped-query attention), and writes the chunk's
 * max `m`, `Σ exp(s − m)` and `Σ exp(s − m) · v` into its slot of `result` `[batch·heads, totalChunks,
 * headDim + 2]`. One dispatch serves up to a few blocks (each block is a binding); the caller runs one per
 * group of blocks into the same result and `DecodeAttentionReduceProgram` combines the chunks.
 *
 * Inputs: `query` `[batch, heads, 1, headDim]`, then `mask` `[batch or 1, 1, 1, keyLength]` when given,
 * then `key0`, `value0`, `key1`, … `[batch, kvHeads, blockLength, headDim]`.
 */
export class DecodeAttentionPartialProgram implements WebgpuProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0], y: [1], z: [2] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [KEYS_PER_CHUNK, 1, 1];
  readonly uniforms: string;

  /** `blockLengths`: the keys of each block this dispatch reads (at most the binding limit allows). */
  constructor(
    batchSize: number,
    heads: number,
    readonly headDim: number,
    readonly blockLengths: readonly number[],
    totalChunks: number,
    readonly hasMask: boolean,
    readonly hasSoftcap: boolean,
  ) {
    const blocks = blockLengths.length;
    const blockNames = blockLengths.flatMap((_, block) => [`key${block}`, `value${block}`]);
    this.variableNames = ['query', ...(hasMask ? ['mask'] : []), ...blockNames];
    this.outputShape = [batchSize * heads, totalChunks, partialWidth(headDim)];
    const chunks = blockLengths.reduce((total, length) => total + Math.ceil(length / KEYS_PER_CHUNK), 0);
    this.dispatch = [chunks, heads, batchSize];
    const perBlock = blockLengths
      .map((_, block) => `length${block} : i32, keyStart${block} : i32,`)
      .join(' ');
    this.uniforms = `scale : f32, softcap : f32, groups : i32, maskRowStride : i32, firstChunk : i32, totalChunks : i32, ${perBlock}`;
    this.shaderKey = `tsformerDecodeAttentionPartial_${headDim}_${blocks}_${hasMask}_${hasSoftcap}`;
  }

  getUserCode(): string {
    const headDim = this.headDim;
    const blocks = this.blockLengths.length;
    const blockIndices = Array.from({ length: blocks }, (_, block) => block);
    // Which block chunk `c` of this dispatch falls in, and where in that block it starts.
    const locate = blockIndices
      .map(
        (block) => `
        {
          let chunks = (uniforms.length${block} + ${KEYS_PER_CHUNK - 1}) / ${KEYS_PER_CHUNK};
          if (!found && c < chunks) {
            found = true; block = ${block}; blockLength = uniforms.length${block};
            start = c * ${KEYS_PER_CHUNK}; keyStart = uniforms.keyStart${block};
          }
          if (!found) { c = c - chunks; }
        }`,
      )
      .join('');
    const reader = (name: string) => `
      fn ${name}At(block : i32, index : i32) -> f32 {
        switch block {
          ${blockIndices.map((block) => `case ${block}: { return ${name}${block}[index]; }`).join('\n          ')}
          default: { return 0.0; }
        }
      }`;
    const cap = this.hasSoftcap
      ? 'score = tanh(clamp(score / uniforms.softcap, -10.0, 10.0)) * uniforms.softcap;'
      : '';
    const addMask = this.hasMask
      ? 'score = score + mask[b * uniforms.maskRowStride + keyStart + start + t];'
      : '';
    return `
      ${reader('key')}
      ${reader('value')}
      var<workgroup> queryRow : array<f32, ${headDim}>;
      var<workgroup> weights : array<f32, ${KEYS_PER_CHUNK}>;
      var<workgroup> tree : array<f32, ${KEYS_PER_CHUNK}>;
      fn main() {
        let t = i32(localId.x);
        let h = i32(workgroupId.y);
        let b = i32(workgroupId.z);
        let heads = uniforms.queryShape[1];
        let kvHeads = heads / uniforms.groups;
        let g = h / uniforms.groups;
        var c = i32(workgroupId.x);
        let slot = (b * heads + h) * uniforms.totalChunks + uniforms.firstChunk + c;
        var found = false;
        var block = 0;
        var blockLength = 0;
        var start = 0;
        var keyStart = 0;
        ${locate}
        let count = min(${KEYS_PER_CHUNK}, blockLength - start);
        for (var d = t; d < ${headDim}; d += ${KEYS_PER_CHUNK}) { queryRow[d] = query[(b * heads + h) * ${headDim} + d]; }
        workgroupBarrier();

        let valid = t < count;
        // [batch, kvHeads, blockLength, headDim]: this thread's key row
        let row = ((b * kvHeads + g) * blockLength + start) * ${headDim};
        var score = ${LOWEST};
        if (valid) {
          var dot = 0.0;
          for (var d = 0; d < ${headDim}; d++) { dot += queryRow[d] * keyAt(block, row + t * ${headDim} + d); }
          score = dot * uniforms.scale;
          ${cap}
          ${addMask}
        }
        tree[t] = score;
        workgroupBarrier();
        for (var stride = ${KEYS_PER_CHUNK / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) { tree[t] = max(tree[t], tree[t + stride]); }
          workgroupBarrier();
        }
        let chunkMax = tree[0];
        workgroupBarrier();
        var weight = 0.0;
        if (valid) { weight = exp(score - chunkMax); }
        weights[t] = weight;
        tree[t] = weight;
        workgroupBarrier();
        for (var stride = ${KEYS_PER_CHUNK / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) { tree[t] = tree[t] + tree[t + stride]; }
          workgroupBarrier();
        }
        let base = slot * ${headDim + 2};
        if (t == 0) {
          result[base] = chunkMax;
          result[base + 1] = tree[0];
        }
        for (var d = t; d < ${headDim}; d += ${KEYS_PER_CHUNK}) {
          var sum = 0.0;
          for (var j = 0; j < count; j++) { sum += weights[j] * valueAt(block, row + j * ${headDim} + d); }
          result[base + 2 + d] = sum;
        }
      }
    `;
  }
}

/**
 * Flash-decoding's second pass: per output element (row b, head h, channel d) of `result`
 * `[batch, heads, 1, headDim]`, combines the chunks of `partials` (`DecodeAttentionPartialProgram`):
 * `Σ e^(m_c − M) · acc_c[d] / Σ e^(m_c − M) · l_c` with `M` the largest chunk max — softmax · values.
 */
export class DecodeAttentionReduceProgram implements WebgpuProgram {
  readonly variableNames = ['partials'];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0, 1, 2, 3] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [64, 1, 1];
  readonly uniforms = 'elements : i32, totalChunks : i32,';

  constructor(
    batchSize: number,
    heads: number,
    readonly headDim: number,
  ) {
    this.outputShape = [batchSize, heads, 1, headDim];
    this.dispatch = [Math.ceil((batchSize * heads * headDim) / 64), 1, 1];
    this.shaderKey = `tsformerDecodeAttentionReduce_${headDim}`;
  }

  getUserCode(): string {
    const width = this.headDim + 2;
    return `
      fn main(index : i32) {
        if (index >= uniforms.elements) { return; }
        let pair = index / ${this.headDim};
        let d = index - pair * ${this.headDim};
        let first = pair * uniforms.totalChunks * ${width};
        var largest = ${LOWEST};
        for (var c = 0; c < uniforms.totalChunks; c++) { largest = max(largest, partials[first + c * ${width}]); }
        var total = 0.0;
        var sum = 0.0;
        for (var c = 0; c < uniforms.totalChunks; c++) {
          let at = first + c * ${width};
          let factor = exp(partials[at] - largest);
          total += factor * partials[at + 1];
          sum += factor * partials[at + 2 + d];
        }
        result[index] = sum / total;
      }
    `;
  }
}
