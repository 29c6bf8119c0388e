import { describe, expect, it } from 'vitest';
import { resolveQwen2Config } from './qwen2-config.js';

const twoLayers = { model_type: 'qwen2', num_hidden_layers: 2, max_window_layers: 1 };

describe('Qwen2 sliding-window layers as Qwen2Config resolves them', () => {
  it('takes sliding_window 4096 when the field is absent (Qwen2Config’s default)', () => {
    expect(resolveQwen2Config({ ...twoLayers, use_sliding_window: true }).slidingWindows).toEqual([
      null,
      4096,
    ]);
  });

  it('an explicit null window, or use_sliding_window off, leaves every layer full', () => {
    expect(
      resolveQwen2Config({ ...twoLayers, use_sliding_window: true, sliding_window: null }).slidingWindows,
    ).toEqual([null, null]);
    expect(resolveQwen2Config({ ...twoLayers, sliding_window: 8 }).slidingWindows).toEqual([null, null]);
  });
});
