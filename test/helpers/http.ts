// A throwaway HTTP server on 127.0.0.1 and a random port, for tests that need something to
// download from or forward to.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalHttp {
  base: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttp(handler: RequestListener): Promise<LocalHttp> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
