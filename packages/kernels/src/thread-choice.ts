/**
 * Work (weight bytes × row pairs) below which one more thread does not pay for waking it: a product
 * of ~1 MiB streams in ~50 µs on one core, and handing a share to a worker costs a few µs when it
 * is spinning, tens when it sleeps. Small models (tiny-llama-docs: 0.3–0.9 MB matrices) decode on
 * one thread; GPT-2-124M's matrices (2.4–7 MB, 154 MB head) and every prefill use all of them.
 */
export const WORK_PER_THREAD = 1 << 20;

/** How many of `available` threads a product of `weightBytes` over `rows` rows uses (at least 1). */
export function threadsForProduct(weightBytes: number, rows: number, available: number): number {
  const work = weightBytes * Math.ceil(rows / 2);
  return Math.max(1, Math.min(available, Math.floor(work / WORK_PER_THREAD)));
}
