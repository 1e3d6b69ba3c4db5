/** A free TCP port on the loopback interface, for test and benchmark servers. */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Builds a server for a free loopback port and listens on it; if another process took the port in
 * between, tries another (up to five times). `firstPort` is tried first when given.
 */
export async function listenOnFreePort<A extends { listen(o: { port: number; host: string }): Promise<unknown>; close(): Promise<unknown> }>(
  build: (port: number) => Promise<A>,
  firstPort?: number,
): Promise<{ app: A; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = firstPort && attempt === 0 ? firstPort : await freePort();
    const app = await build(port);
    try {
      await app.listen({ port, host: '127.0.0.1' });
      return { app, port };
    } catch (e) {
      await app.close();
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw e;
    }
  }
}
