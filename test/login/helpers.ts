/**
 * Support for the login end-to-end tests: a real Carnet on a loopback port (HTTP or HTTPS with
 * mutual TLS), a small request function that can present a client certificate, a browser-like
 * redirect follower with a cookie jar (for the external OpenID Connect provider), and the data the
 * tests read through `/fhir`. Services only set data up; every assertion goes through HTTP.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { openTestCarnet, type TestCarnet } from '../../src/store/testing.ts';
import { createInMemorySigningKey, type SigningKey } from '../../src/auth/signing-keys.ts';
import type { ProOidcConfig } from '../../src/services/accounts/proOidc.ts';
import { addPatient } from '../../src/services/addPatient.ts';
import { fileDocuments } from '../../src/services/fileDocuments.ts';
import { grantConsent } from '../../src/services/rights.ts';
import { freshIns, holderOf, labAuthor, syntheticDocument, TEST_OID } from '../../src/services/testkit.ts';
import { freePort, listenOnFreePort } from '../net.ts';
export { freePort };

export { freshIns, TEST_OID };


export interface Server {
  carnet: TestCarnet;
  app: FastifyInstance;
  signingKey: SigningKey;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startServer(opts: { https?: HttpsServerOptions; proOidc?: (baseUrl: string) => ProOidcConfig; port?: number } = {}): Promise<Server> {
  const carnet = await openTestCarnet();
  const signingKey = await createInMemorySigningKey();
  const scheme = opts.https ? 'https' : 'http';
  const { app, port } = await listenOnFreePort(
    (p) => buildApp({ carnet, signingKey, baseUrl: `${scheme}://127.0.0.1:${p}`, logger: false, https: opts.https, proOidc: opts.proOidc?.(`${scheme}://127.0.0.1:${p}`) }),
    opts.port,
  );
  const baseUrl = `${scheme}://127.0.0.1:${port}`;
  return {
    carnet, app, signingKey, baseUrl,
    async close() {
      await app.close();
      // pg-pool's end() resolves before its sockets close; the test database is dropped (force) next
      await carnet.database.db.destroy();
      await new Promise((r) => setTimeout(r, 200));
      await carnet.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface Tls {
  ca?: string | string[];
  cert?: string;
  key?: string;
}

/** One request (a fresh connection each time: a client certificate belongs to its connection). */
export function call(
  url: string,
  opts: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; tls?: Tls; form?: Record<string, string> } = {},
): Promise<Reply> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'application/json, application/fhir+json', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams(opts.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const method = opts.method ?? (body !== undefined ? 'POST' : 'GET');
  return new Promise((resolve, reject) => {
    const options = { method, headers, agent: false as const, ...(u.protocol === 'https:' ? { ...opts.tls, servername: undefined } : {}) };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The code of an OperationOutcome answer (Carnet's errors). */
export function outcomeCode(r: Reply): string | undefined {
  return r.json?.issue?.[0]?.details?.coding?.[0]?.code ?? r.json?.issue?.[0]?.details?.text;
}

export function assertRefused(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text.slice(0, 400)}`);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text.slice(0, 200));
  assert.ok(r.text.includes(code), `expected ${code} in ${r.text.slice(0, 400)}`);
}

/** An active record with one lab report in it; `consentTo` gives that professional the holder's consent. */
export async function recordWithDocument(s: Server, opts: { pending?: boolean; consentTo?: string; email?: string } = {}) {
  const ins = freshIns();
  const r = await addPatient(s.carnet.ctx, {
    ins, insOid: TEST_OID, identityStatus: 'qualifiee', activateNow: !opts.pending,
    demographics: { birthName: 'TESTNOM', firstNames: ['Camille'], sex: 'F', birthDate: '1985-03-01', email: opts.email ?? 'camille@example.org' },
  });
  const fileOne = async () => {
    const doc = syntheticDocument(s.carnet, { author: { rpps: labAuthor().id } });
    const filed = await fileDocuments(s.carnet.ctx, labAuthor(), { patient: { recordId: r.recordId }, documents: [doc] });
    return filed.documents[0].id;
  };
  if (opts.consentTo) await grantConsent(s.carnet.ctx, holderOf(r.recordId), r.recordId, opts.consentTo);
  return { ins, recordId: r.recordId, activationCode: r.activationCode, fileOne };
}

/** The notifications outbox rows of an account of this kind, newest last. */
export async function outbox(s: Server, accountId: string, kind: string): Promise<Array<Record<string, any>>> {
  const rows = await s.carnet.ctx.db.selectFrom('notifications').selectAll().where('recipient_kind', '=', 'account')
    .where('recipient_id', '=', accountId).where('kind', '=', kind).orderBy('created_at').execute();
  return rows.map((r) => JSON.parse(r.payload));
}

/** Ids of the DocumentReferences a search answered. */
export const docIds = (r: Reply): string[] => (r.json?.entry ?? []).map((e: any) => e.resource?.id);

/** A browser's cookie jar, one host: enough for an identity provider's interaction cookies. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(headers: Reply['headers']) {
    const set = headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}
