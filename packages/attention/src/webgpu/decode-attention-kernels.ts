import type { WgslKernel } from '@tsformer/kernels';

/** Keys one workgroup scores: one per thread, then a tree over the workgroup. */
export const KEYS_PER_CHUNK = 64;

/** Per (row, query head, chunk): the chunk's max score, its sum of exponentials, then `headDim` weighted sums. */
export function partialWidth(headDim: number): number {
  return headDim + 2;
}

/** f32's lowest finite value: the max of a chunk before it has scored anything. */
const LOWEST = '-3.402823466e38';

const kernels = new Map<string, WgslKernel>();

function memo(key: string, build: () => Omit<WgslKernel, 'key'>): WgslKernel {
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = { key, ...build() };
    kernels.set(key, kernel);
  }
  return kernel;
}

/**
 * Flash-decoding's first pass over `blocks` cache blocks: workgroup (row b, query head h, chunk c)
 * scores its ≤ 64 keys against row b's query of head h — `cap(q·k · scale) + mask`, kv head `h / groups`
 * (grouped-query attention) — and writes the chunk's max `m`, `Σ exp(s − m)` and `Σ exp(s − m) · v` into
 * slot `firstChunk + c` of `partials` `[batch·heads, totalChunks, headDim + 2]`. Each block is a binding,
 * so one dispatch serves as many blocks as the device binds; the caller runs one per group of blocks into
 * the same `partials`, then `decodeAttentionReduceKernel`.
 *
 * Inputs: `query` `[batch, heads, 1, headDim]`, `mask` `[batch or 1, 1, 1, keyLength]` when `hasMask`,
 * then `key0`, `value0`, `key1`, … `[batch, kvHeads, blockLength, headDim]`. Workgroups: `batch · heads ·
 * chunks of this dispatch`.
 *
 * `singlePass` (every block in this one dispatch, few chunks): workgroup (b, h) scores the chunks one
 * after the other and folds each into a running max, sum and weighted values (the online softmax the
 * reduce pass computes), writing `output` `[batch, heads, 1, headDim]` itself — one dispatch for the
 * whole attention. Workgroups: `batch · heads`.
 */
export function decodeAttentionPartialKernel(
  headDim: number,
  blocks: number,
  hasMask: boolean,
  hasSoftcap: boolean,
  singlePass = false,
): WgslKernel {
  const key = `tsformerDecodeAttentionPartial_${headDim}_${blocks}_${hasMask}_${hasSoftcap}_${singlePass}`;
  return memo(key, () => {
    const blockIndices = Array.from({ length: blocks }, (_, block) => block);
    // Which block chunk `c` of this dispatch falls in, and where in that block it starts.
    const locate = blockIndices
      .map(
        (block) => `
        if (!found) {
          let chunks = (uniforms.length${block} + ${KEYS_PER_CHUNK - 1}) / ${KEYS_PER_CHUNK};
          if (c < chunks) {
            found = true; block = ${block}; blockLength = uniforms.length${block};
            start = c * ${KEYS_PER_CHUNK}; keyStart = uniforms.keyStart${block};
          } else {
            c = c - chunks;
          }
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
    const cap = hasSoftcap
      ? 'score = tanh(clamp(score / uniforms.softcap, -10.0, 10.0)) * uniforms.softcap;'
      : '';
    const addMask = hasMask
      ? 'score = score + mask[b * uniforms.maskRowStride + keyStart + start + tid];'
      : '';
    const loadQuery = `
        for (var d = tid; d < ${headDim}; d += ${KEYS_PER_CHUNK}) {
          queryRow[d] = query[(b * heads + h) * ${headDim} + d];
        }
        workgroupBarrier();`;
    // Chunk c of this dispatch for row b, head h: its scores, their max `chunkMax`, the weights
    // exp(s − chunkMax) in `weights` and their sum in `tree[0]`; `count` keys from `row` of `block`.
    const scoreChunk = `
        let kvHeads = heads / uniforms.groups;
        let g = h / uniforms.groups;
        var found = false;
        var block = 0;
        var blockLength = 0;
        var start = 0;
        var keyStart = 0;
        ${locate}
        let count = min(${KEYS_PER_CHUNK}, blockLength - start);
        let valid = tid < count;
        // [batch, kvHeads, blockLength, headDim]: the chunk's first key row
        let row = ((b * kvHeads + g) * blockLength + start) * ${headDim};
        var score = ${LOWEST};
        if (valid) {
          var dot = 0.0;
          for (var d = 0; d < ${headDim}; d++) { dot += queryRow[d] * keyAt(block, row + tid * ${headDim} + d); }
          score = dot * uniforms.scale;
          ${cap}
          ${addMask}
        }
        tree[tid] = score;
        workgroupBarrier();
        for (var stride = ${KEYS_PER_CHUNK / 2}; stride > 0; stride = stride / 2) {
          if (tid < stride) { tree[tid] = max(tree[tid], tree[tid + stride]); }
          workgroupBarrier();
        }
        // Floored at the lowest finite float: a chunk whose keys a caller's mask hides with -Infinity
        // has weights exp(-inf - lowest) = 0, not exp(-inf + inf) = NaN.
        let chunkMax = max(tree[0], ${LOWEST});
        workgroupBarrier();
        var weight = 0.0;
        if (valid) { weight = exp(score - chunkMax); }
        weights[tid] = weight;
        tree[tid] = weight;
        workgroupBarrier();
        for (var stride = ${KEYS_PER_CHUNK / 2}; stride > 0; stride = stride / 2) {
          if (tid < stride) { tree[tid] = tree[tid] + tree[tid + stride]; }
          workgroupBarrier();
        }`;
    const channelsPerThread = Math.ceil(headDim / KEYS_PER_CHUNK);
    return {
      outputs: [{ name: singlePass ? 'output' : 'partials', type: 'f32' }],
      inputs: [
        { name: 'query', type: 'f32' },
        ...(hasMask ? [{ name: 'mask', type: 'f32' as const }] : []),
        ...blockIndices.flatMap((block) => [
          { name: `key${block}`, type: 'f32' as const },
          { name: `value${block}`, type: 'f32' as const },
        ]),
      ],
      uniforms: [
        { name: 'scale', type: 'f32' },
        { name: 'softcap', type: 'f32' },
        { name: 'batch', type: 'i32' },
        { name: 'heads', type: 'i32' },
        { name: 'groups', type: 'i32' },
        { name: 'maskRowStride', type: 'i32' },
        { name: 'dispatchChunks', type: 'i32' },
        { name: 'firstChunk', type: 'i32' },
        { name: 'totalChunks', type: 'i32' },
        ...blockIndices.flatMap((block) => [
          { name: `length${block}`, type: 'i32' as const },
          { name: `keyStart${block}`, type: 'i32' as const },
        ]),
      ],
      workgroupSize: KEYS_PER_CHUNK,
      helpers: `
        ${reader('key')}
        ${reader('value')}
        var<workgroup> queryRow : array<f32, ${headDim}>;
        var<workgroup> weights : array<f32, ${KEYS_PER_CHUNK}>;
        var<workgroup> tree : array<f32, ${KEYS_PER_CHUNK}>;`,
      body: singlePass
        ? `
        let heads = uniforms.heads;
        let h = workgroupIndex % heads;
        let b = workgroupIndex / heads;
        if (b >= uniforms.batch) { return; }
        ${loadQuery}
        // The softmax so far (online, chunk after chunk): its max, its sum, and this thread's channels
        // d = tid, tid + 64, … of Σ exp(s − max) · v.
        var runMax = ${LOWEST};
        var runSum = 0.0;
        var acc : array<f32, ${channelsPerThread}>;
        for (var chunk = 0; chunk < uniforms.dispatchChunks; chunk++) {
          var c = chunk;
          ${scoreChunk}
          let newMax = max(runMax, chunkMax);
          let kept = exp(runMax - newMax);
          let added = exp(chunkMax - newMax);
          runSum = runSum * kept + tree[0] * added;
          for (var r = 0; r < ${channelsPerThread}; r++) {
            let d = tid + r * ${KEYS_PER_CHUNK};
            if (d < ${headDim}) {
              var sum = 0.0;
              for (var j = 0; j < count; j++) { sum += weights[j] * valueAt(block, row + j * ${headDim} + d); }
              acc[r] = acc[r] * kept + sum * added;
            }
          }
          runMax = newMax;
          workgroupBarrier();
        }
        for (var r = 0; r < ${channelsPerThread}; r++) {
          let d = tid + r * ${KEYS_PER_CHUNK};
          if (d < ${headDim}) { output[(b * heads + h) * ${headDim} + d] = acc[r] / runSum; }
        }`
        : `
        let heads = uniforms.heads;
        var c = workgroupIndex % uniforms.dispatchChunks;
        let h = (workgroupIndex / uniforms.dispatchChunks) % heads;
        let b = workgroupIndex / (uniforms.dispatchChunks * heads);
        if (b >= uniforms.batch) { return; }
        let slot = (b * heads + h) * uniforms.totalChunks + uniforms.firstChunk + c;
        ${loadQuery}
        ${scoreChunk}
        let base = slot * ${headDim + 2};
        if (tid == 0) {
          partials[base] = chunkMax;
          partials[base + 1] = tree[0];
        }
        for (var d = tid; d < ${headDim}; d += ${KEYS_PER_CHUNK}) {
          var sum = 0.0;
          for (var j = 0; j < count; j++) { sum += weights[j] * valueAt(block, row + j * ${headDim} + d); }
          partials[base + 2 + d] = sum;
        }`,
    };
  });
}

/**
 * Flash-decoding's second pass: per output element (row b, head h, channel d) of `output`
 * `[batch, heads, 1, headDim]`, combines the chunks of `partials` (`decodeAttentionPartialKernel`):
 * `Σ e^(m_c − M) · acc_c[d] / Σ e^(m_c − M) · l_c`, `M` the largest chunk max — softmax times values.
 * Workgroups: `ceil(batch · heads · headDim / 64)`.
 */
export function decodeAttentionReduceKernel(headDim: number): WgslKernel {
  const width = partialWidth(headDim);
  return memo(`tsformerDecodeAttentionReduce_${headDim}`, () => ({
    outputs: [{ name: 'output', type: 'f32' }],
    inputs: [{ name: 'partials', type: 'f32' }],
    uniforms: [
      { name: 'elements', type: 'i32' },
      { name: 'totalChunks', type: 'i32' },
    ],
    workgroupSize: 64,
    body: `
      let index = globalIndex;
      if (index >= uniforms.elements) { return; }
      let pair = index / ${headDim};
      let d = index - pair * ${headDim};
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
      output[index] = sum / total;`,
  }));
}
