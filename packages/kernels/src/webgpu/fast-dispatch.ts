import * as tf from '@tensorflow/tfjs-core';
import { KernelArgumentError } from '../errors.js';
import { uniformBytes, type WgslElement, type WgslKernel, wgslSource } from './wgsl-kernel.js';

/**
 * A WebGPU object (device, buffer, encoder, pipeline), untyped: kernels imports neither a backend
 * package nor the WebGPU type package.
 */
// biome-ignore lint/suspicious/noExplicitAny: Dawn's objects, driven through their documented methods.
type GpuObject = any;

/** `GPUShaderStage.COMPUTE`, `GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST` (WebGPU's constants). */
const COMPUTE_STAGE = 4;
const UNIFORM_COPY_DST = 0x40 | 0x08;
/**
 * Outputs' buffers: tfjs's tensor usage (`STORAGE | COPY_SRC | COPY_DST`) plus `INDIRECT`, which no
 * tfjs op asks for, so tfjs's buffer manager pools them apart from its own ops' buffers. The same
 * kernels then get the same buffers back step after step, and their bind groups are found again.
 */
const OUTPUT_USAGE = 0x80 | 0x04 | 0x08 | 0x100;
/** Uniform slots in the ring: one per distinct uniform value set, until it fills (then all are freed). */
const UNIFORM_SLOTS = 512;
/** Bind groups kept (oldest dropped first): a decode step of a 48-layer model needs a few hundred. */
const MAX_BIND_GROUPS = 4096;

/** The fields of tfjs-backend-webgpu's `WebGPUBackend` this path uses (4.22; all plain JS properties). */
interface TfjsWebgpuBackend {
  device: GpuObject;
  queue: GpuObject;
  commandEncoder: GpuObject | null;
  computePassEncoder: GpuObject | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(dataId: object): { resource: GpuObject; values: unknown } };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuObject };
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** An output of a dispatch: a new tensor of this shape and dtype, or an existing tensor written in place. */
export type KernelOutput = { shape: number[]; dtype: 'float32' | 'int32' } | { writeInto: tf.Tensor };

/** Counters of the fast path on one backend since it started (cumulative; take differences). */
export interface FastDispatchStats {
  dispatches: number;
  pipelinesCreated: number;
  bindGroupsCreated: number;
  bindGroupHits: number;
  uniformWrites: number;
  uniformReuses: number;
}

interface CompiledKernel {
  id: number;
  pipeline: GpuObject;
  layout: GpuObject;
  uniformBytes: number;
  uniformTypes: readonly WgslElement[];
  /** Kernels with the same uniform types share ring slots of equal values. */
  uniformSignature: string;
}

/**
 * tsformer's own dispatch path on one tfjs webgpu backend: pipelines made once per kernel variant,
 * bind groups cached by the identity of the GPU buffers they bind (tfjs's buffer manager hands the same
 * buffers back step after step), uniforms written once per distinct value set into slots of one
 * persistent buffer bound with a dynamic offset, and every dispatch
 * recorded into tfjs's own command encoder and compute pass, so it is ordered with tfjs's ops and
 * submitted with them.
 */
class FastDispatcher {
  readonly stats: FastDispatchStats = {
    dispatches: 0,
    pipelinesCreated: 0,
    bindGroupsCreated: 0,
    bindGroupHits: 0,
    uniformWrites: 0,
    uniformReuses: 0,
  };
  /** Dispatches per kernel key since the backend started (cumulative). */
  readonly dispatchesByKernel = new Map<string, number>();
  private readonly device: GpuObject;
  private readonly kernels = new Map<string, CompiledKernel>();
  private readonly bufferIds = new WeakMap<object, number>();
  private nextBufferId = 0;
  private readonly bindGroups = new Map<string, GpuObject>();
  private readonly slotBytes: number;
  private readonly uniformRing: GpuObject;
  /** The ring's slots by value set (`uniformSignature:values`). */
  private readonly ringSlots = new Map<string, number>();

  constructor(private readonly backend: TfjsWebgpuBackend) {
    this.device = backend.device;
    this.slotBytes = Math.max(256, this.device.limits.minUniformBufferOffsetAlignment);
    this.uniformRing = this.device.createBuffer({
      size: this.slotBytes * UNIFORM_SLOTS,
      usage: UNIFORM_COPY_DST,
    });
  }

  dispatch(
    kernel: WgslKernel,
    inputs: readonly tf.Tensor[],
    outputs: readonly KernelOutput[],
    uniforms: readonly number[],
    workgroups: number,
  ): tf.Tensor[] {
    const backend = this.backend;
    const compiled = this.compiled(kernel);
    const infos = outputs.map((output) => {
      if ('writeInto' in output) return output.writeInto;
      const info = backend.makeTensorInfo(output.shape, output.dtype);
      const bytes = 4 * tf.util.sizeFromShape(output.shape);
      backend.tensorMap.get(info.dataId).resource = backend.bufferManager.acquireBuffer(bytes, OUTPUT_USAGE);
      return info;
    });
    const bound = [...infos, ...inputs];
    const buffers = bound.map((tensor) => {
      backend.uploadToGPU(tensor.dataId);
      return backend.tensorMap.get(tensor.dataId).resource;
    });
    backend.ensureCommandEncoderReady();
    const offset = compiled.uniformBytes > 0 ? this.uniformSlot(compiled, uniforms) : undefined;
    const bindGroup = this.bindGroup(compiled, buffers);
    for (const tensor of bound) backend.commandQueueOwnedIds.add(tensor.dataId);

    backend.computePassEncoder ??= backend.commandEncoder.beginComputePass({});
    const pass = backend.computePassEncoder;
    pass.setPipeline(compiled.pipeline);
    if (offset === undefined) pass.setBindGroup(0, bindGroup);
    else pass.setBindGroup(0, bindGroup, [offset]);
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups <= limit) pass.dispatchWorkgroups(workgroups);
    else pass.dispatchWorkgroups(limit, Math.ceil(workgroups / limit)); // the shader skips the excess
    this.stats.dispatches += 1;
    this.dispatchesByKernel.set(kernel.key, (this.dispatchesByKernel.get(kernel.key) ?? 0) + 1);
    backend.dispatchCountInPass += 1;
    if (backend.dispatchCountInPass >= (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    return outputs.map((output, i) => {
      if (!('writeInto' in output)) return tf.engine().makeTensorFromTensorInfo(infos[i]!);
      // A read of the target before this write left its values on the CPU, which `data()` would return.
      backend.tensorMap.get(output.writeInto.dataId).values = null;
      return output.writeInto;
    });
  }

  private compiled(kernel: WgslKernel): CompiledKernel {
    const known = this.kernels.get(kernel.key);
    if (known) return known;
    const storage = kernel.outputs.length + kernel.inputs.length;
    const entries = Array.from({ length: storage }, (_, binding) => ({
      binding,
      visibility: COMPUTE_STAGE,
      buffer: { type: binding < kernel.outputs.length ? 'storage' : 'read-only-storage' },
    }));
    const bytes = uniformBytes(kernel);
    if (bytes > 0) {
      entries.push({
        binding: storage,
        visibility: COMPUTE_STAGE,
        buffer: { type: 'uniform', hasDynamicOffset: true } as never,
      });
    }
    const layout = this.device.createBindGroupLayout({ entries });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: this.device.createShaderModule({ code: wgslSource(kernel) }), entryPoint: 'main' },
    });
    const compiled = {
      id: this.kernels.size,
      pipeline,
      layout,
      uniformBytes: bytes,
      uniformTypes: kernel.uniforms.map((u) => u.type),
      uniformSignature: kernel.uniforms.map((u) => u.type).join(''),
    };
    this.kernels.set(kernel.key, compiled);
    this.stats.pipelinesCreated += 1;
    return compiled;
  }

  /** The bind group of these buffers for this kernel: made on first sight, then found by buffer identity. */
  private bindGroup(kernel: CompiledKernel, buffers: readonly GpuObject[]): GpuObject {
    let key = `${kernel.id}`;
    for (const buffer of buffers) key += `,${this.bufferId(buffer)}`;
    const known = this.bindGroups.get(key);
    if (known) {
      this.stats.bindGroupHits += 1;
      return known;
    }
    const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    if (kernel.uniformBytes > 0) {
      entries.push({
        binding: buffers.length,
        resource: { buffer: this.uniformRing, offset: 0, size: kernel.uniformBytes } as never,
      });
    }
    const group = this.device.createBindGroup({ layout: kernel.layout, entries });
    if (this.bindGroups.size >= MAX_BIND_GROUPS) {
      this.bindGroups.delete(this.bindGroups.keys().next().value!);
    }
    this.bindGroups.set(key, group);
    this.stats.bindGroupsCreated += 1;
    return group;
  }

  private bufferId(buffer: object): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  /**
   * The ring offset holding `values`. A value set gets a slot the first time it is seen and keeps it:
   * a slot is never rewritten while dispatches recorded against it may still be unsubmitted, so the
   * steady state writes nothing (decode repeats the same shapes). When the ring is full, tfjs's
   * pending work is submitted first, then every slot is free again (later writes are ordered after
   * the submitted work).
   */
  private uniformSlot(kernel: CompiledKernel, values: readonly number[]): number {
    const key = `${kernel.uniformSignature}:${values.join(',')}`;
    const known = this.ringSlots.get(key);
    if (known !== undefined) {
      this.stats.uniformReuses += 1;
      return known;
    }
    if (this.ringSlots.size === UNIFORM_SLOTS) {
      const backend = this.backend;
      backend.endComputePassEncoder();
      backend.submitQueue();
      backend.ensureCommandEncoderReady();
      this.ringSlots.clear();
    }
    const data = new ArrayBuffer(kernel.uniformBytes);
    const words = new DataView(data);
    values.forEach((value, i) => {
      const type = kernel.uniformTypes[i];
      if (type === 'f32') words.setFloat32(i * 4, value, true);
      else if (type === 'u32') words.setUint32(i * 4, value, true);
      else words.setInt32(i * 4, value, true);
    });
    const offset = this.ringSlots.size * this.slotBytes;
    this.backend.queue.writeBuffer(this.uniformRing, offset, data, 0, kernel.uniformBytes);
    this.ringSlots.set(key, offset);
    this.stats.uniformWrites += 1;
    return offset;
  }
}

const dispatchers = new WeakMap<object, FastDispatcher>();

function dispatcherOf(backend: object): FastDispatcher {
  let dispatcher = dispatchers.get(backend);
  if (!dispatcher) {
    dispatcher = new FastDispatcher(backend as TfjsWebgpuBackend);
    dispatchers.set(backend, dispatcher);
  }
  return dispatcher;
}

/**
 * Runs `kernel` on the active webgpu backend: `workgroups` workgroups (folded into a 2-D grid past the
 * device's per-dimension limit; a kernel must ignore `workgroupIndex` past its work), `uniforms` the values of
 * `kernel.uniforms` in order, `inputs` bound in the order of `kernel.inputs`. Returns one tensor per
 * output in the current tidy scope (an in-place output returns the tensor it wrote). Recorded into
 * tfjs's command encoder, so ordered with tfjs ops before and after it; tfjs frees no input or output
 * before the work is submitted.
 */
export function dispatchKernel(
  kernel: WgslKernel,
  inputs: readonly tf.Tensor[],
  outputs: readonly KernelOutput[],
  uniforms: readonly number[],
  workgroups: number,
): tf.Tensor[] {
  if (uniforms.length !== kernel.uniforms.length || inputs.length !== kernel.inputs.length) {
    throw new KernelArgumentError(
      `dispatchKernel(${kernel.key}): got ${inputs.length} inputs and ${uniforms.length} uniforms, the kernel declares ${kernel.inputs.length} and ${kernel.uniforms.length}`,
    );
  }
  return dispatcherOf(tf.backend()).dispatch(kernel, inputs, outputs, uniforms, workgroups);
}

/** How many storage buffers one kernel may bind, outputs and inputs together (the device's limit). */
export function maxStorageBuffers(): number {
  return (tf.backend() as unknown as TfjsWebgpuBackend).device.limits.maxStorageBuffersPerShaderStage;
}

/**
 * The fast path's dispatches on the active webgpu backend by kernel key (`WgslKernel.key`), cumulative
 * since its first dispatch: what a profile takes differences of.
 */
export function fastDispatchesByKernel(): Map<string, number> {
  return new Map(dispatcherOf(tf.backend()).dispatchesByKernel);
}

/** The fast path's counters on the active webgpu backend (all zero before its first dispatch). */
export function fastDispatchStats(): FastDispatchStats {
  return { ...dispatcherOf(tf.backend()).stats };
}
