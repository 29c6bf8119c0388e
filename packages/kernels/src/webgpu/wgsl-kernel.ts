/** The element type of a storage buffer as a shader reads it (float32 tensors `f32`, int32 tensors `i32`). */
export type WgslElement = 'f32' | 'i32' | 'u32';

/** A storage buffer the shader binds: its WGSL name and element type. */
export interface WgslBuffer {
  name: string;
  type: WgslElement;
}

/** A scalar uniform (`uniforms.<name>`), set per dispatch. */
export interface WgslUniform {
  name: string;
  type: WgslElement;
}

/**
 * One compiled variant of a tsformer WGSL program, described once (keep the object; `dispatchKernel`
 * caches its pipeline by `key`). The shader gets, in binding order, the `outputs` (read-write storage),
 * the `inputs` (read-only storage), then `uniforms` as one struct `uniforms`; its entry point is
 * generated around `body`, which sees `workgroupIndex` (the workgroup's flat index, however the grid was
 * folded), `tid` (the thread's index in its workgroup) and `globalIndex` (`workgroupIndex *
 * workgroupSize + tid`), all `i32`; `helpers` (functions, `var<workgroup>` arrays) is placed before it.
 */
export interface WgslKernel {
  /** Unique per variant (shape constants, dtypes): the pipeline cache key. */
  key: string;
  outputs: readonly WgslBuffer[];
  inputs: readonly WgslBuffer[];
  uniforms: readonly WgslUniform[];
  workgroupSize: number;
  helpers?: string;
  body: string;
}

/** The complete WGSL module of `kernel`. */
export function wgslSource(kernel: WgslKernel): string {
  const buffers = [
    ...kernel.outputs.map(
      ({ name, type }, i) => `@group(0) @binding(${i}) var<storage, read_write> ${name} : array<${type}>;`,
    ),
    ...kernel.inputs.map(
      ({ name, type }, i) =>
        `@group(0) @binding(${kernel.outputs.length + i}) var<storage, read> ${name} : array<${type}>;`,
    ),
  ];
  const uniformBinding = kernel.outputs.length + kernel.inputs.length;
  const uniforms =
    kernel.uniforms.length === 0
      ? ''
      : `struct Uniforms { ${kernel.uniforms.map(({ name, type }) => `${name} : ${type},`).join(' ')} }
         @group(0) @binding(${uniformBinding}) var<uniform> uniforms : Uniforms;`;
  return `
    ${buffers.join('\n')}
    ${uniforms}
    ${kernel.helpers ?? ''}
    @compute @workgroup_size(${kernel.workgroupSize}, 1, 1)
    fn main(
      @builtin(local_invocation_id) localId : vec3<u32>,
      @builtin(workgroup_id) workgroupId : vec3<u32>,
      @builtin(num_workgroups) numWorkgroups : vec3<u32>,
    ) {
      let workgroupIndex = i32(workgroupId.x + workgroupId.y * numWorkgroups.x);
      let tid = i32(localId.x);
      let globalIndex = workgroupIndex * ${kernel.workgroupSize} + tid;
      ${kernel.body}
    }
  `;
}

/** Bytes of the uniform struct: 4 per scalar, rounded up to WGSL's 16-byte struct alignment. */
export function uniformBytes(kernel: WgslKernel): number {
  return Math.ceil((kernel.uniforms.length * 4) / 16) * 16;
}
