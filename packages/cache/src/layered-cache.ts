import { type BlockOptions, checkCropLength, checkInteger, checkLayerIndex } from './cache-arguments.js';
import type { Cache, DecoderCache, LayerCache } from './cache-types.js';
import { DynamicLayerCache } from './dynamic-layer-cache.js';
import { CacheArgumentError, CacheCropError } from './errors.js';
import { SlidingWindowLayerCache } from './sliding-window-layer-cache.js';
import { StaticLayerCache } from './static-layer-cache.js';

/** Makes the cache of decoder layer `layerIndex` (lets a model mix full and sliding-window layers). */
export type LayerCacheFactory<L extends LayerCache = LayerCache> = (layerIndex: number) => L;

/** A decoder cache: one layer cache per layer, each made by a factory (HF's `Cache` over `layers`). */
export class LayeredCache<L extends LayerCache = LayerCache> implements DecoderCache {
  private readonly layers: readonly L[];

  constructor(numLayers: number, makeLayer: LayerCacheFactory<L>) {
    checkInteger(numLayers, 1, 'numLayers', 'LayeredCache');
    this.layers = Array.from({ length: numLayers }, (_, layerIndex) => makeLayer(layerIndex));
  }

  get numLayers(): number {
    return this.layers.length;
  }

  /** The cache of layer `layerIndex`, the one its attention updates. */
  layer(layerIndex: number): L {
    return this.layers[checkLayerIndex(layerIndex, this.layers.length, 'LayeredCache.layer')]!;
  }

  /** Tokens seen by layer `layerIndex` (default 0). */
  getSeqLength(layerIndex = 0): number {
    return this.layer(layerIndex).getSeqLength();
  }

  /** Keeps the first `length` tokens of every layer; refuses before changing any layer if one cannot. */
  crop(length: number): void {
    checkCropLength(length, 'LayeredCache.crop');
    this.layers.forEach((layer, layerIndex) => {
      const minimum = layer.minCropLength?.() ?? 0;
      if (length > 0 && length < minimum) {
        throw new CacheCropError(
          `LayeredCache.crop: layer ${layerIndex} cannot crop below ${minimum} tokens (asked for ${length}); ` +
            'no layer was changed',
        );
      }
    });
    for (const layer of this.layers) layer.crop(length);
  }

  /** The largest of the layers' smallest crop lengths (0 when every length is fine). */
  minCropLength(): number {
    return Math.max(0, ...this.layers.map((layer) => layer.minCropLength?.() ?? 0));
  }

  /** Reorders the batch rows of every layer: row i becomes old row `indices[i]`. */
  reorder(indices: readonly number[]): void {
    for (const layer of this.layers) layer.reorder(indices);
  }

  /** Whether every layer can join rows (dynamic and sliding-window layers can; static ones cannot). */
  canJoinRows(): boolean {
    return this.layers.every((layer) => layer.joinRows !== undefined && layer.dropStart !== undefined);
  }

  /**
   * Puts the rows of `other` (a LayeredCache of as many layers, each of the same kind) into this one,
   * layer by layer: row i becomes row `rows[i]`, replacing a held row or appended (default: all
   * appended), the shorter left-padded (see `LayerCache.joinRows`); `other` is left empty. Refuses
   * before changing any layer when a layer cannot join rows.
   */
  joinRows(other: Cache, rows?: readonly number[]): void {
    if (!(other instanceof LayeredCache) || other.numLayers !== this.numLayers) {
      throw new CacheArgumentError(
        `LayeredCache.joinRows: the joining cache must be a LayeredCache of ${this.numLayers} layers`,
      );
    }
    this.checkRowJoins('joinRows');
    this.layers.forEach((layer, layerIndex) => {
      layer.joinRows!(other.layer(layerIndex), rows);
    });
  }

  /** Drops the first `count` positions of every row of every layer. */
  dropStart(count: number): void {
    this.checkRowJoins('dropStart');
    for (const layer of this.layers) layer.dropStart!(count);
  }

  private checkRowJoins(method: string): void {
    const layerIndex = this.layers.findIndex((layer) => !layer.joinRows || !layer.dropStart);
    if (layerIndex >= 0) {
      throw new CacheArgumentError(
        `LayeredCache.${method}: layer ${layerIndex} (${this.layers[layerIndex]!.constructor.name}) cannot join rows; ` +
          'only dynamic and sliding-window layers can',
      );
    }
  }

  /** Exact bytes of every tensor held by every layer. */
  bytes(): number {
    return this.layers.reduce((total, layer) => total + layer.bytes(), 0);
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

/** Every layer grows without bound (HF's `DynamicCache`). */
export class DynamicCache extends LayeredCache<DynamicLayerCache> {
  constructor(numLayers: number, options?: BlockOptions) {
    super(numLayers, () => new DynamicLayerCache(options));
  }
}

/** Every layer preallocated to `maxLength` positions (HF's `StaticCache` without sliding layers). */
export class StaticCache extends LayeredCache<StaticLayerCache> {
  constructor(numLayers: number, maxLength: number, options?: BlockOptions) {
    super(numLayers, () => new StaticLayerCache(maxLength, options));
  }
}

/** Every layer attends within a sliding window of `window` positions (Mistral's `sliding_window`). */
export class SlidingWindowCache extends LayeredCache<SlidingWindowLayerCache> {
  constructor(numLayers: number, window: number, options?: BlockOptions) {
    super(numLayers, () => new SlidingWindowLayerCache(window, options));
  }
}
