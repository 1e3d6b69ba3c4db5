/**
 * Issue 5, must show — a professional logs in through an external OpenID Connect provider (a real
 * `oidc-provider` on 127.0.0.1 as the Pro Santé Connect stand-in), and the token reads through
 * /fhir/DocumentReference. Negative: an ID token with another audience, an ID token with another
 * nonce, a replayed login answer; card login needs HTTPS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, call, CookieJar, docIds, freePort, recordWithDocument, startServer, type Reply, type Server } from './helpers.ts';
import { startIdp, type Idp } from './oidc-idp.ts';

const RPPS = '10000000041';
const USER = 'psc-user-1';
let s: Server;
let idp: Idp;
let record: Awaited<ReturnType<typeof recordWithDocument>>;

before(async () => {
  const port = await freePort();
  idp = await startIdp({
    redirectUri: `http://127.0.0.1:${port}/pro/login/oidc/callback`,
    users: {
      [USER]: { given_name: 'Paul', family_name: 'Durand', SubjectNameID: `8${RPPS}`, SubjectRefPro: { exercices: [{ codeProfession: '10', codeCategorieProfessionnelle: 'C' }] } },
    },
  });
  s = await startServer({ port, proOidc: (base) => idp.carnetConfig(base) });
  assert.equal(s.baseUrl, `http://127.0.0.1:${port}`, 'Carnet listens where the provider sends professionals back');
  record = await recordWithDocument(s, { consentTo: RPPS });
});
after(async () => {
  await s.close();
  await idp.close();
});

const absolute = (location: string, base: string) => new URL(location, base).href;

/**
 * The professional's browser: Carnet → provider (log in as `login`) → back to Carnet's callback.
 * `edit` may change the authorization request on its way to the provider (an attacker's move).
 */
async function browserLogin(opts: { edit?: (authUrl: URL) => void; login?: string } = {}): Promise<{ callbackUrl: string; answer: Reply }> {
  const start = await call(`${s.baseUrl}/pro/login/oidc`);
  assert.equal(start.status, 302, start.text);
  const auth = new URL(start.headers.location as string);
  assert.equal(auth.origin, idp.issuer);
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(auth.searchParams.get('nonce') && auth.searchParams.get('state'));
  opts.edit?.(auth);
  const jar = new CookieJar();
  let url = auth.href;
  let form: Record<string, string> | undefined;
  for (let hop = 0; hop < 12; hop++) {
    const r = await call(url, { headers: jar.header(), ...(form ? { form } : {}) });
    jar.store(r.headers);
    form = undefined;
    if (r.status >= 300 && r.status < 400) {
      url = absolute(r.headers.location as string, url);
      if (url.startsWith(`${s.baseUrl}/pro/login/oidc/callback`)) return { callbackUrl: url, answer: await call(url) };
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(r.text)?.[1];
    assert.ok(action && r.text.includes('name="login"'), `expected the provider's login form, got ${r.status}: ${r.text.slice(0, 300)}`);
    url = absolute(action.replace(/&amp;/g, '&'), url);
    form = { prompt: 'login', login: opts.login ?? USER, password: 'any' };
  }
  throw new Error('too many redirects');
}

test('a professional logs in through the external provider, and the token reads DocumentReference', async () => {
  const docId = await record.fileOne();
  const { answer, callbackUrl } = await browserLogin();
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json.status, 'authenticated');
  assert.deepEqual(answer.json.professional, { rpps: RPPS, profession_code: '10', name: 'Paul Durand' });
  const read = await call(`${s.baseUrl}/fhir/DocumentReference?patient=${record.recordId}`, { token: answer.json.access_token });
  assert.equal(read.status, 200, read.text);
  assert.ok(docIds(read).includes(docId));
  // the same answer cannot be played twice (state is single use)
  assertRefused(await call(callbackUrl), 401, 'OIDC_STATE_UNKNOWN');
  const ok = await s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'pro.login').where('outcome', '=', 'success').execute();
  assert.deepEqual(ok.map((e) => [e.actor_id, JSON.parse(e.detail!).method]), [[RPPS, 'oidc']]);
});

test('an ID token issued for another audience is refused', async () => {
  idp.tamper.audience = 'some-other-client';
  try {
    const { answer } = await browserLogin();
    assertRefused(answer, 401, 'OIDC_AUDIENCE_MISMATCH');
  } finally {
    idp.tamper.audience = undefined;
  }
});

test('an ID token carrying another nonce than this login’s is refused', async () => {
  // the authorization request reaches the provider with a nonce of the attacker's choosing; the code
  // and PKCE stay valid, so only the nonce check stands in the way
  const { answer } = await browserLogin({ edit: (u) => u.searchParams.set('nonce', 'nonce-of-another-login') });
  assertRefused(answer, 401, 'OIDC_NONCE_MISMATCH');
  const failures = await s.carnet.ctx.db.selectFrom('audit_log').select(['reason']).where('action', '=', 'pro.login').where('outcome', '=', 'failure').execute();
  assert.ok(failures.some((f) => f.reason === 'OIDC_NONCE_MISMATCH') && failures.some((f) => f.reason === 'OIDC_AUDIENCE_MISMATCH'));
});

test('an unknown state is refused, and card login needs HTTPS', async () => {
  assertRefused(await call(`${s.baseUrl}/pro/login/oidc/callback?code=abc&state=never-issued`), 401, 'OIDC_STATE_UNKNOWN');
  assertRefused(await call(`${s.baseUrl}/pro/login/certificate`, { method: 'POST' }), 401, 'CERT_TLS_REQUIRED');
});
