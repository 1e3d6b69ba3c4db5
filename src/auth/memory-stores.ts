/**
 * In-memory implementations of the auth ports, for tests, the CLI and single-process development.
 * The database layer provides the durable ones (a restart must not let an assertion be replayed).
 */
import type { ClientRegistry, JtiStore, RegisteredClient } from './token-endpoint.ts';

export function createMemoryClientRegistry(clients: RegisteredClient[] = []): ClientRegistry & { add(c: RegisteredClient): void } {
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  return {
    get: async (clientId) => byId.get(clientId),
    add: (c) => void byId.set(c.clientId, c),
  };
}

/**
 * Remembers each (client, jti) until 5 minutes past its `expiresAt` (judged by `now`): by then the
 * assertion is refused as expired anyway, even with some clock tolerance.
 */
export function createMemoryJtiStore(now: () => Date = () => new Date()): JtiStore & { size(): number } {
  const seen = new Map<string, number>();
  const purge = () => {
    const t = now().getTime();
    for (const [k, exp] of seen) if (exp + 300_000 < t) seen.delete(k);
  };
  return {
    async remember(clientId, jti, expiresAt) {
      purge();
      const key = JSON.stringify([clientId, jti]);
      if (seen.has(key)) return false;
      seen.set(key, expiresAt.getTime());
      return true;
    },
    size: () => seen.size,
  };
}
