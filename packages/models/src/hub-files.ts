import { memoryByteSource } from '@tsformer/core-tensor';
import { ModelDownloadError, ModelFileError } from './errors.js';
import type { LoadProgressListener } from './load-progress.js';
import type { ModelFiles } from './model-files.js';

/** Where downloaded files are kept between loads: the browser's `Cache` (Cache Storage) fits. */
export interface ModelFileCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
}

/** The Cache Storage cache `hubFiles` uses by default. */
export const MODEL_CACHE_NAME = 'tsformer-models';

export interface HubFilesOptions {
  /** Where repositories live (default `https://huggingface.co`); a mirror or a local server in tests. */
  baseUrl?: string;
  /** A branch, tag or commit (default `main`). A commit makes the cache exact: files at a branch may change. */
  revision?: string;
  /**
   * Where files are kept so that a second load downloads nothing: default the browser's Cache Storage
   * (`caches.open('tsformer-models')`) when there is one, else none; `false` for none.
   */
  cache?: ModelFileCache | false;
  /** Sent as `Authorization: Bearer …` (gated or private repositories). */
  accessToken?: string;
  /** Bytes read so far, per file (from the network or the cache). */
  onProgress?: LoadProgressListener;
  /** Cancels downloads in flight. */
  signal?: AbortSignal;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/**
 * A model repository served in Hugging Face's layout, `{baseUrl}/{repo}/resolve/{revision}/{file}`:
 * each file is downloaded once, whole, when first asked for (a 404 means "not there"), and kept in
 * `cache`, 404s included, so a second load makes no request. Sharded safetensors are read through
 * their index as from a folder on disk.
 */
export function hubFiles(repo: string, options: HubFilesOptions = {}): ModelFiles {
  const baseUrl = (options.baseUrl ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = encodeURIComponent(options.revision ?? 'main');
  const location = `${baseUrl}/${repo}/resolve/${revision}`;
  const url = (name: string) => `${location}/${name.split('/').map(encodeURIComponent).join('/')}`;
  const download = downloader(options);
  const files = new Map<string, Promise<Uint8Array | null>>();
  /** The file's bytes, or null when the server has no such file; each file is fetched at most once. */
  const bytesOf = (name: string): Promise<Uint8Array | null> => {
    let file = files.get(name);
    if (file === undefined) {
      file = download(name, url(name));
      files.set(name, file);
      // A failed download may be retried by a later call.
      file.catch(() => files.delete(name));
    }
    return file;
  };
  const existing = async (name: string): Promise<Uint8Array> => {
    const bytes = await bytesOf(name);
    if (bytes === null) throw new ModelFileError(`${url(name)} does not exist`);
    return bytes;
  };
  return {
    location,
    has: async (name) => (await bytesOf(name)) !== null,
    readText: async (name) => new TextDecoder().decode(await existing(name)),
    open: async (name) => memoryByteSource(await existing(name)),
    path: url,
  };
}

/** Fetches one file (or reads it from the cache), reporting bytes; null for a 404. */
function downloader(options: HubFilesOptions) {
  const fetchFile = options.fetch ?? globalThis.fetch.bind(globalThis);
  const headers: Record<string, string> =
    options.accessToken === undefined ? {} : { authorization: `Bearer ${options.accessToken}` };
  let cache: Promise<ModelFileCache | undefined> | undefined;
  const openCache = () => {
    cache ??= options.cache === false ? Promise.resolve(undefined) : defaultCache(options.cache);
    return cache;
  };
  return async (name: string, url: string): Promise<Uint8Array | null> => {
    const store = await openCache();
    const cached = await store?.match(url);
    if (cached !== undefined) {
      return cached.status === 404 ? null : readBody(cached, name, url, true, options.onProgress);
    }
    let response: Response;
    try {
      response = await fetchFile(url, { headers, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ModelDownloadError(url, undefined, `could not be fetched (${(error as Error).message})`);
    }
    if (response.status === 404) {
      await keep(store, url, new Response(null, { status: 404 }));
      return null;
    }
    if (!response.ok) {
      const hint =
        response.status === 401 || response.status === 403
          ? ' (a gated or private repository needs an access token)'
          : '';
      throw new ModelDownloadError(
        url,
        response.status,
        `HTTP ${response.status} ${response.statusText}${hint}`,
      );
    }
    const bytes = await readBody(response, name, url, false, options.onProgress);
    // Fetched bytes live in a plain ArrayBuffer (never shared memory), which Response accepts.
    const body = bytes as Uint8Array<ArrayBuffer>;
    await keep(store, url, new Response(body, { headers: { 'content-length': String(bytes.byteLength) } }));
    return bytes;
  };
}

async function defaultCache(given: ModelFileCache | undefined): Promise<ModelFileCache | undefined> {
  if (given !== undefined) return given;
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  // Cache Storage exists only in secure contexts (https, localhost) and may be refused (private windows).
  return storage === undefined ? undefined : storage.open(MODEL_CACHE_NAME).catch(() => undefined);
}

/** Stores a response; a full or refused cache only means the next load downloads again. */
async function keep(cache: ModelFileCache | undefined, url: string, response: Response): Promise<void> {
  await cache?.put(url, response).catch(() => undefined);
}

/** The whole body, reporting progress chunk by chunk; a body cut short is a ModelDownloadError. */
async function readBody(
  response: Response,
  file: string,
  url: string,
  fromCache: boolean,
  onProgress: LoadProgressListener | undefined,
): Promise<Uint8Array> {
  const length = response.headers.get('content-length');
  const totalBytes = length === null ? undefined : Number(length);
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  onProgress?.({ kind: 'bytes', file, loadedBytes, totalBytes, fromCache });
  if (response.body !== null) {
    const reader = response.body.getReader();
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        chunks.push(chunk.value);
        loadedBytes += chunk.value.byteLength;
        onProgress?.({ kind: 'bytes', file, loadedBytes, totalBytes, fromCache });
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ModelDownloadError(
        url,
        response.status,
        `download stopped after ${loadedBytes} bytes (${(error as Error).message})`,
      );
    }
  }
  if (totalBytes !== undefined && loadedBytes < totalBytes) {
    throw new ModelDownloadError(
      url,
      response.status,
      `download stopped after ${loadedBytes} of ${totalBytes} bytes`,
    );
  }
  return concatenate(chunks, loadedBytes);
}

function concatenate(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
