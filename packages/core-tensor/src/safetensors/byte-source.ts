/**
 * Random access to the bytes of one file: a file on disk (Node), a buffer in memory, or anything
 * else that can serve byte ranges (HTTP range requests in a browser).
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** `length` bytes from `offset`, in a new array the caller owns; fewer only when the source ends early. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A ByteSource over bytes in memory; every read is a copy, so a tensor never aliases the caller's buffer. */
export function memoryByteSource(bytes: Uint8Array | ArrayBuffer): ByteSource {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    size: view.byteLength,
    read: async (offset, length) => view.slice(offset, offset + length),
  };
}
