/**
 * Establishment systems (SMART Backend Services clients): registration (`carnet client add`), the
 * registry the token endpoint reads, and the durable `jti` store that refuses replayed assertions.
 */
import { randomUUID } from 'node:crypto';
import { conflict, invalid } from '../domain/errors.ts';
import { parseFiness } from '../domain/identity.ts';
import { parseScopes } from '../auth/scopes.ts';
import type { ClientRegistry, JtiStore, RegisteredClient } from '../auth/token-endpoint.ts';
import { appendAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface AddClientInput {
  clientId?: string;
  name: string;
  finess: string;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUrl?: string;
  scopes?: string[];
}

export const DEFAULT_SYSTEM_SCOPES = [
  'system/Patient.rs', 'system/DocumentReference.crus', 'system/Binary.r', 'system/List.rs',
  'system/Consent.crs', 'system/AuditEvent.rs',
];

export async function addClient(ctx: Ctx, input: AddClientInput): Promise<RegisteredClient> {
  const finess = parseFiness(input.finess);
  if (!input.jwks && !input.jwksUrl) throw invalid('CLIENT_KEYS_MISSING', 'A client needs a JWKS or a JWKS URL');
  if (input.jwks && !Array.isArray(input.jwks.keys)) throw invalid('CLIENT_JWKS_INVALID', 'The JWKS must have a "keys" array');
  if (input.jwks?.keys.some((k) => 'd' in k)) throw invalid('CLIENT_JWKS_PRIVATE', 'The JWKS holds a private key: register public keys only');
  if (input.jwksUrl) {
    const u = new URL(input.jwksUrl);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw invalid('CLIENT_JWKS_URL', 'The JWKS URL must be https');
  }
  const scopes = input.scopes?.length ? input.scopes : DEFAULT_SYSTEM_SCOPES;
  const parsed = parseScopes(scopes);
  if (parsed.invalid.length) throw invalid('CLIENT_SCOPE_INVALID', `Unknown scope syntax: ${parsed.invalid.join(' ')}`);
  const client: RegisteredClient = {
    clientId: input.clientId ?? randomUUID(), name: input.name, finess, scopes, kind: 'system',
    ...(input.jwks ? { jwks: input.jwks as RegisteredClient['jwks'] } : {}), ...(input.jwksUrl ? { jwksUrl: input.jwksUrl } : {}),
  };
  await inTransaction(ctx, async (tx) => {
    const exists = await tx.db.selectFrom('clients').select('client_id').where('client_id', '=', client.clientId).executeTakeFirst();
    if (exists) throw conflict('CLIENT_EXISTS', 'A client with this id is already registered');
    await tx.db.insertInto('clients').values({
      client_id: client.clientId, name: client.name, finess, kind: 'system',
      jwks: client.jwks ? JSON.stringify(client.jwks) : null, jwks_url: client.jwksUrl ?? null,
      scopes: JSON.stringify(scopes), created_at: tx.clock().toISOString(),
    }).execute();
    await appendAudit(tx.db, tx.engine, {
      actor: { kind: 'operator', id: 'carnet-cli', name: 'carnet client add' }, action: 'client.add', outcome: 'success',
      detail: { clientId: client.clientId, finess }, at: tx.clock(),
    });
  });
  return client;
}

export function clientRegistry(ctx: Ctx): ClientRegistry {
  return {
    async get(clientId: string) {
      const row = await ctx.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (!row) return undefined;
      return {
        clientId: row.client_id, name: row.name, finess: row.finess, kind: 'system', scopes: JSON.parse(row.scopes),
        ...(row.jwks ? { jwks: JSON.parse(row.jwks) } : {}), ...(row.jwks_url ? { jwksUrl: row.jwks_url } : {}),
      };
    },
  };
}

/** Remembers assertion ids until they expire; the primary key makes a replay fail atomically. */
export function jtiStore(ctx: Ctx): JtiStore {
  return {
    async remember(clientId: string, jti: string, expiresAt: Date) {
      const now = ctx.clock().toISOString();
      const res = await ctx.db
        .insertInto('oauth_jti')
        .values({ client_id: clientId, jti, expires_at: expiresAt.toISOString() })
        .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
        .executeTakeFirst();
      // forget the expired ones now and then (cheap, indexed by the primary key's client_id)
      if (Math.random() < 0.01) await ctx.db.deleteFrom('oauth_jti').where('expires_at', '<', now).execute();
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    },
  };
}
