// `npm run demo`: serves the built page and the bundled model, and prints the URL.
import { fileURLToPath } from 'node:url';
import { startDemoServer } from './demo-server.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const port = Number(process.env.PORT ?? 8080);
const server = await startDemoServer({
  pageFolder: `${root}apps/demo/dist/site`,
  modelFolder: `${root}models/tiny-llama-docs`,
  port,
}).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  console.error(`port ${port} is taken: a free one is used instead (PORT=… to choose)`);
  return startDemoServer({
    pageFolder: `${root}apps/demo/dist/site`,
    modelFolder: `${root}models/tiny-llama-docs`,
  });
});
console.log(`tsformer demo: ${server.url}  (Ctrl+C to stop)`);
