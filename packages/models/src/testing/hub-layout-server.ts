// A local HTTP server that serves model folders in Hugging Face's layout,
// `/{repo}/resolve/{revision}/{file}`, and counts the requests it answers (tests of `hubFiles`, in
// Node and from a page: it allows any origin, as the Hub does).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const CORS = { 'access-control-allow-origin': '*' };

export interface HubLayoutServer {
  /** `http://127.0.0.1:PORT`, the `baseUrl` of `hubFiles`. */
  readonly baseUrl: string;
  /** Requests answered so far, by path (`/org/model/resolve/main/config.json`). */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `repos` (repo name → folder on disk) at every revision; a file that is not in its folder,
 * or any other path, is a 404. `status` can make one path answer with an error status instead.
 */
export async function startHubLayoutServer(
  repos: Readonly<Record<string, string>>,
  status: Readonly<Record<string, number>> = {},
): Promise<HubLayoutServer> {
  const requests: string[] = [];
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const forced = status[path];
    const match = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(path);
    const folder = match ? repos[match[1]!] : undefined;
    if (forced !== undefined || folder === undefined || match![2]!.includes('..')) {
      response.writeHead(forced ?? 404, CORS).end();
      return;
    }
    try {
      const bytes = await readFile(`${folder}/${match![2]}`);
      response.writeHead(200, { ...CORS, 'content-length': bytes.byteLength }).end(bytes);
    } catch {
      response.writeHead(404, CORS).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
