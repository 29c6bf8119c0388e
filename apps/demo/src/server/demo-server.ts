import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';

/** Where the page finds the bundled model: a repository in Hugging Face's layout on the page's own server. */
export const BUNDLED_MODEL_PATH = '/hub/tsformer/tiny-llama-docs/resolve/main';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * Headers that make the page cross-origin isolated (`crossOriginIsolated`, so `SharedArrayBuffer`
 * and tfjs-wasm's threads work) and let its own files load under that policy.
 */
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export interface DemoServerOptions {
  /** The built page (`dist/site`). */
  pageFolder: string;
  /** The bundled model folder served at BUNDLED_MODEL_PATH. */
  modelFolder: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
}

export interface DemoServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the built page and the bundled model with COOP/COEP, on 127.0.0.1 (a secure context for WebGPU). */
export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      response.writeHead(500, ISOLATION_HEADERS).end(String(error));
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, done);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: DemoServerOptions,
): Promise<void> {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://page').pathname);
  const file = path.startsWith(`${BUNDLED_MODEL_PATH}/`)
    ? inside(options.modelFolder, path.slice(BUNDLED_MODEL_PATH.length))
    : inside(options.pageFolder, path === '/' ? '/index.html' : path);
  const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
  if (file === undefined || !info?.isFile()) {
    response.writeHead(404, ISOLATION_HEADERS).end();
    return;
  }
  const bytes = await readFile(file);
  response
    .writeHead(200, {
      ...ISOLATION_HEADERS,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': bytes.byteLength,
      'cache-control': 'no-cache',
    })
    .end(request.method === 'HEAD' ? undefined : bytes);
}

/** `folder` + `path`, or undefined when the path would leave the folder. */
function inside(folder: string, path: string): string | undefined {
  const root = resolve(folder);
  const file = join(root, normalize(path));
  return file.startsWith(`${root}/`) ? file : undefined;
}
