import { TsformerError } from '../errors.js';

/**
 * A safetensors file, folder or shard index that cannot be read or written as asked: the message
 * names the file (`location`) and, where one is to blame, the tensor.
 */
export class SafetensorsError extends TsformerError {
  override name = 'SafetensorsError';

  constructor(
    readonly location: string,
    detail: string,
    readonly tensorName?: string,
  ) {
    super(`${location}: ${tensorName === undefined ? '' : `tensor "${tensorName}": `}${detail}`);
  }
}
