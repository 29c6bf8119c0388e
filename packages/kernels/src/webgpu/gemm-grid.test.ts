import { describe, expect, it } from 'vitest';
import { gemmGrid } from './gemm-grid.js';

describe('gemmGrid', () => {
  it('splits GPT-2-124M projections at 128 rows until the grid has about 1024 workgroups', () => {
    // [rows, in, out]: 96 tiles over in = 3072 → 11 slices of 288 (the last 192); 288 tiles → 4 slices.
    expect(gemmGrid(128, 3072, 768)).toEqual({ splits: 11, slice: 288, workgroups: 1056 });
    expect(gemmGrid(128, 768, 2304)).toEqual({ splits: 4, slice: 192, workgroups: 1152 });
    expect(gemmGrid(128, 768, 3072)).toEqual({ splits: 3, slice: 256, workgroups: 1152 });
    // Slices of at least 128: in = 768 gives at most 6.
    expect(gemmGrid(128, 768, 768)).toEqual({ splits: 6, slice: 128, workgroups: 576 });
    expect(gemmGrid(32, 3072, 768)).toEqual({ splits: 24, slice: 128, workgroups: 576 });
  });

  it('leaves enough tiles, or a short in, unsplit', () => {
    expect(gemmGrid(2048, 768, 768)).toEqual({ splits: 1, slice: 768, workgroups: 1536 });
    expect(gemmGrid(9, 200, 65)).toEqual({ splits: 1, slice: 224, workgroups: 3 });
  });

  it('takes a forced split, in whole tile steps whose last takes the rest', () => {
    expect(gemmGrid(128, 3072, 768, { splits: 1 })).toEqual({ splits: 1, slice: 3072, workgroups: 96 });
    expect(gemmGrid(9, 130, 65, { splits: 3 })).toEqual({ splits: 3, slice: 64, workgroups: 9 });
    expect(gemmGrid(9, 130, 65, { splits: 16 })).toEqual({ splits: 5, slice: 32, workgroups: 15 });
    expect(gemmGrid(2048, 768, 768, { splits: 2 })).toEqual({ splits: 2, slice: 384, workgroups: 3072 });
    expect(gemmGrid(9, 20, 65, { splits: 2 })).toEqual({ splits: 1, slice: 32, workgroups: 3 });
  });
});
