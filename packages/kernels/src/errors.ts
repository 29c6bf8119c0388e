import { TsformerError } from '@tsformer/core-tensor';

/** A kernel was called with arguments it cannot take (shapes that disagree, a freed weight, ...). */
export class KernelArgumentError extends TsformerError {
  override name = 'KernelArgumentError';
}

/** The thread pool cannot run here (no SharedArrayBuffer, no worker support) or was terminated. */
export class KernelPoolError extends TsformerError {
  override name = 'KernelPoolError';
}
