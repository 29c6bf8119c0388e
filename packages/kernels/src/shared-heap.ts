import { KernelPoolError } from './errors.js';

/** WebAssembly page size: memory grows by whole pages. */
const PAGE_BYTES = 65536;
/** wasm32's whole address space, the shared memory's declared maximum (virtual, not committed). */
const MAX_PAGES = 65536;
/** Every block starts on a cache line, which also satisfies every SIMD load's alignment hint. */
const ALIGN = 64;
/** The first page is the module's own: its static data (Mathf.exp's table) lives there. */
const FIRST_BYTE = PAGE_BYTES;

interface FreeBlock {
  offset: number;
  bytes: number;
}

/**
 * The thread pool's one shared `WebAssembly.Memory` and a first-fit allocator over it: packed
 * weights, inputs and outputs are blocks in it, addressed by byte offset. The memory grows on demand
 * and never shrinks (wasm memories cannot); freed blocks are reused and merged with their neighbours.
 */
export class SharedHeap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks sorted by offset; the space past `end` is free as well. */
  private readonly free: FreeBlock[] = [];
  private end = FIRST_BYTE;
  private readonly sizes = new Map<number, number>();

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
  }

  /** Bytes handed out and not yet freed. */
  get allocatedBytes(): number {
    let total = 0;
    for (const bytes of this.sizes.values()) total += bytes;
    return total;
  }

  /**
   * A block of at least `bytes` bytes, 64-byte aligned, contents unspecified. Returns its offset;
   * throws `KernelPoolError` when the memory cannot grow to hold it.
   */
  allocate(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const index = this.free.findIndex((block) => block.bytes >= size);
    let offset: number;
    if (index >= 0) {
      const block = this.free[index]!;
      offset = block.offset;
      if (block.bytes === size) this.free.splice(index, 1);
      else this.free[index] = { offset: block.offset + size, bytes: block.bytes - size };
    } else {
      offset = this.end;
      this.ensureCapacity(offset + size);
      this.end = offset + size;
    }
    this.sizes.set(offset, size);
    return offset;
  }

  /** Returns a block from `allocate` to the heap. */
  release(offset: number): void {
    const size = this.sizes.get(offset);
    if (size === undefined) throw new KernelPoolError(`shared heap: no block at offset ${offset} to free`);
    this.sizes.delete(offset);
    let index = this.free.findIndex((block) => block.offset > offset);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { offset, bytes: size });
    // Merge with the following block, then with the preceding one, then give a free tail back to `end`.
    const next = this.free[index + 1];
    const block = this.free[index]!;
    if (next && block.offset + block.bytes === next.offset) {
      block.bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous && previous.offset + previous.bytes === block.offset) {
      previous.bytes += block.bytes;
      this.free.splice(index, 1);
    }
    const last = this.free.at(-1);
    if (last && last.offset + last.bytes === this.end) {
      this.end = last.offset;
      this.free.pop();
    }
  }

  /** The memory's bytes as they are now (a new view after every growth). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private ensureCapacity(byteEnd: number): void {
    const pages = Math.ceil(byteEnd / PAGE_BYTES);
    const current = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages <= current) return;
    if (pages > MAX_PAGES) {
      throw new KernelPoolError(`shared heap: ${byteEnd} bytes exceed WebAssembly's 4 GiB address space`);
    }
    // Grow by at least half again, so that packing a model grows the memory a few times, not per weight.
    const target = Math.min(MAX_PAGES, Math.max(pages, Math.ceil(current * 1.5)));
    try {
      this.memory.grow(target - current);
    } catch {
      // The engine could not reserve the larger growth: ask for just what is needed.
      try {
        this.memory.grow(pages - current);
      } catch (error) {
        throw new KernelPoolError(`shared heap: cannot grow to ${byteEnd} bytes (${String(error)})`);
      }
    }
  }
}
