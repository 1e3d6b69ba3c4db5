import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import {
  clientCredentialsGrant,
  JWT_BEARER_ASSERTION_TYPE,
  OAuthError,
  type RegisteredClient,
  type TokenEndpointDeps,
} from './token-endpoint.ts';
import { createMemoryClientRegistry, createMemoryJtiStore } from './memory-stores.ts';
import { createInMemorySigningKey, type SigningKey } from './signing-keys.ts';
import { verifyAccessToken } from './access-token.ts';
import { allows } from './scopes.ts';

const TOKEN_URL = 'https://carnet.example/oauth/token';
const FHIR_BASE = 'https://carnet.example/fhir';
const ISSUER = 'https://carnet.example';
const NOW = new Date('2026-03-02T10:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const FINESS = '750712184';

interface ClientKey { alg: 'RS384' | 'ES384'; privateKey: CryptoKey; jwk: JWK; kid: string }

async function clientKey(alg: 'RS384' | 'ES384'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return { alg, privateKey, jwk: { ...pub, kid, alg }, kid };
}

const IUA = {
  subject_id: '10100997245',
  subject_name: 'Dr Jeanne Martin',
  subject_role: { system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10' },
  subject_organization_id: FINESS,
  subject_organization: 'CH Exemple',
  purpose_of_use: { system: 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces', code: 'normal' },
};

interface AssertionOpts {
  key: ClientKey;
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number | null;
  jti?: string | null;
  iua?: Record<string, unknown> | null;
  topLevelIua?: boolean;
  header?: Record<string, unknown>;
}

function assertion(o: AssertionOpts): Promise<string> {
  const claims: Record<string, unknown> = {
    iss: o.iss ?? 'ehr-1',
    sub: o.sub ?? o.iss ?? 'ehr-1',
    aud: o.aud ?? TOKEN_URL,
    iat: NOW_S,
  };
  if (o.exp !== null) claims.exp = o.exp ?? NOW_S + 240;
  if (o.jti !== null) claims.jti = o.jti ?? randomUUID();
  if (o.iua !== null) {
    const iua = o.iua ?? IUA;
    if (o.topLevelIua) claims.ihe_iua = iua;
    else claims.extensions = { ihe_iua: iua };
  }
  return new SignJWT(claims).setProtectedHeader({ alg: o.key.alg, kid: o.key.kid, typ: 'JWT', ...o.header }).sign(o.key.privateKey);
}

const form = (client_assertion: string, extra: Record<string, string | undefined> = {}) => ({
  grant_type: 'client_credentials',
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  client_assertion,
  scope: 'system/DocumentReference.crus',
  ...extra,
});

async function refused(p: Promise<unknown>, error: string, status: number, reason?: string | RegExp): Promise<OAuthError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof OAuthError, `expected an OAuthError, got ${String(caught)}`);
  assert.equal(caught.error, error, `${caught.error} (${caught.reason}): ${caught.description}`);
  assert.equal(caught.status, status);
  assert.deepEqual(caught.body(), { error, error_description: caught.description });
  if (reason instanceof RegExp) assert.match(caught.reason, reason);
  else if (reason) assert.equal(caught.reason, reason);
  return caught;
}

describe('clientCredentialsGrant', () => {
  let rsa: ClientKey;
  let ec: ClientKey;
  let other: ClientKey;
  let carnet: SigningKey;
  let deps: TokenEndpointDeps;
  let jwksServer: Server;
  let jwksUrl: string;
  let served: { keys: JWK[] };

  const verify = (token: string) =>
    verifyAccessToken(token, { verifier: carnet.verifier, issuer: ISSUER, audience: FHIR_BASE, now: () => NOW });

  before(async () => {
    [rsa, ec, other, carnet] = await Promise.all([clientKey('RS384'), clientKey('ES384'), clientKey('ES384'), createInMemorySigningKey()]);
    served = { keys: [ec.jwk] };
    jwksServer = createServer((req, res) => {
      if (req.url === '/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(served));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

    const base = { name: 'DPI CH Exemple', finess: FINESS, kind: 'system' as const };
    const clients: RegisteredClient[] = [
      { ...base, clientId: 'ehr-1', jwks: { keys: [rsa.jwk, ec.jwk] }, scopes: ['system/DocumentReference.crus', 'system/Patient.rs'] },
      { ...base, clientId: 'ehr-url', jwksUrl, scopes: ['system/*.rs', 'system/DocumentReference.crus'] },
      { ...base, clientId: 'ehr-nokeys', scopes: ['system/*.rs'] },
    ];
    deps = {
      registry: createMemoryClientRegistry(clients),
      jtiStore: createMemoryJtiStore(() => NOW),
      signer: carnet,
      audiences: [TOKEN_URL],
      issuer: ISSUER,
      fhirBase: FHIR_BASE,
      now: () => NOW,
    };
  });

  after(() => new Promise<void>((r) => jwksServer.close(() => r())));

  for (const alg of ['RS384', 'ES384'] as const) {
    test(`a valid ${alg} assertion yields an access token carrying the acting professional`, async () => {
      const key = alg === 'RS384' ? rsa : ec;
      const res = await clientCredentialsGrant(form(await assertion({ key })), deps);
      assert.equal(res.token_type, 'Bearer');
      assert.equal(res.expires_in, 300);
      assert.equal(res.scope, 'system/DocumentReference.crus');

      const ctx = await verify(res.access_token);
      assert.equal(ctx.clientId, 'ehr-1');
      assert.equal(ctx.expiresAt.getTime(), NOW.getTime() + 300_000);
      assert.ok(allows(ctx.scopes, 'system', 'DocumentReference', 'c'));
      assert.ok(!allows(ctx.scopes, 'system', 'DocumentReference', 'd'));
      assert.ok(!allows(ctx.scopes, 'system', 'Patient', 'r')); // registered, but not requested
      assert.deepEqual(ctx.actor, {
        kind: 'professional',
        rpps: '10100997245',
        name: 'Dr Jeanne Martin',
        professionCode: '10',
        organisation: FINESS,
        organisationName: 'CH Exemple',
        purposeOfUse: 'normal',
      });
    });
  }

  test('IUA variants: idNat_PS, G15 string with specialty, top-level ihe_iua, no organisation, break-glass, centre 15', async () => {
    const res = await clientCredentialsGrant(
      form(
        await assertion({
          key: ec,
          topLevelIua: true,
          iua: {
            subject_id: '810100997245',
            subject_name: 'Dr B',
            subject_role: 'G15_10/SM26',
            purpose_of_use: 'bris_de_glace',
            justification: '  Patient inconscient aux urgences  ',
          },
        }),
      ),
      deps,
    );
    const { actor } = await verify(res.access_token);
    assert.deepEqual(actor, {
      kind: 'professional',
      rpps: '10100997245',
      name: 'Dr B',
      professionCode: '10',
      specialty: 'SM26',
      organisation: FINESS, // defaults to the client's own FINESS
      purposeOfUse: 'bris_de_glace',
      justification: 'Patient inconscient aux urgences',
    });

    const samu = await clientCredentialsGrant(
      form(await assertion({ key: ec, iua: { ...IUA, subject_organization_id: `1${FINESS}`, subject_role: [{ code: '10' }], purpose_of_use: [{ code: 'centre_15' }] } })),
      deps,
    );
    const s = (await verify(samu.access_token)).actor;
    assert.equal(s.kind === 'professional' && s.purposeOfUse, 'centre_15');
    assert.equal(s.kind === 'professional' && s.organisation, FINESS);
  });

  test('v1 scopes are granted and echoed as written', async () => {
    const res = await clientCredentialsGrant(form(await assertion({ key: ec }), { scope: 'system/DocumentReference.read system/Patient.rs' }), deps);
    assert.equal(res.scope, 'system/DocumentReference.read system/Patient.rs');
    const ctx = await verify(res.access_token);
    assert.ok(allows(ctx.scopes, 'system', 'DocumentReference', 's'));
    assert.ok(!allows(ctx.scopes, 'system', 'DocumentReference', 'c'));
  });

  test('wrong grant type → unsupported_grant_type; missing → invalid_request', async () => {
    const a = await assertion({ key: ec });
    await refused(clientCredentialsGrant(form(a, { grant_type: 'authorization_code' }), deps), 'unsupported_grant_type', 400);
    await refused(clientCredentialsGrant(form(a, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' }), deps), 'unsupported_grant_type', 400);
    await refused(clientCredentialsGrant(form(a, { grant_type: undefined }), deps), 'invalid_request', 400);
  });

  test('no client authentication, another method, or another assertion type → invalid_client / invalid_request', async () => {
    const a = await assertion({ key: ec });
    await refused(clientCredentialsGrant({ grant_type: 'client_credentials', scope: 'system/Patient.rs' }, deps), 'invalid_client', 401, 'NO_CLIENT_AUTH');
    await refused(
      clientCredentialsGrant(form(a, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }), deps),
      'invalid_client',
      401,
      'ASSERTION_TYPE_UNSUPPORTED',
    );
    await refused(clientCredentialsGrant(form(a, { client_secret: 's3cret' }), deps), 'invalid_request', 400);
    await refused(clientCredentialsGrant(form('not-a-jwt'), deps), 'invalid_client', 401, 'ASSERTION_MALFORMED');
  });

  test('alg none (hand-built, unsigned) → invalid_client', async () => {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({
      iss: 'ehr-1', sub: 'ehr-1', aud: TOKEN_URL, exp: NOW_S + 60, jti: randomUUID(), extensions: { ihe_iua: IUA },
    })}.`;
    const e = await refused(clientCredentialsGrant(form(unsigned), deps), 'invalid_client', 401, 'ASSERTION_ALG');
    assert.match(e.description, /RS384 or ES384/);
  });

  test('HS256 (even keyed with the client public key) or RS256 → invalid_client', async () => {
    const claims = { iss: 'ehr-1', sub: 'ehr-1', aud: TOKEN_URL, exp: NOW_S + 60, jti: randomUUID(), extensions: { ihe_iua: IUA } };
    const secret = new TextEncoder().encode(JSON.stringify(rsa.jwk));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(secret);
    await refused(clientCredentialsGrant(form(hs), deps), 'invalid_client', 401, 'ASSERTION_ALG');
    // RS256 is asymmetric but not one SMART names.
    const rs256Key = (await generateKeyPair('RS256')).privateKey;
    const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).sign(rs256Key);
    await refused(clientCredentialsGrant(form(rs256), deps), 'invalid_client', 401, 'ASSERTION_ALG');
  });

  test('signed by a key the client did not register → invalid_client, with nothing about the key', async () => {
    const e = await refused(clientCredentialsGrant(form(await assertion({ key: other })), deps), 'invalid_client', 401, 'ASSERTION_SIGNATURE');
    assert.equal(e.description, 'client authentication failed');
    // Same key id as a registered key, other key material.
    const forged = await assertion({ key: { ...other, kid: ec.kid } });
    const f = await refused(clientCredentialsGrant(form(forged), deps), 'invalid_client', 401, 'ASSERTION_SIGNATURE');
    assert.equal(f.description, 'client authentication failed');
  });

  test('unknown client → invalid_client, indistinguishable from a bad signature', async () => {
    const e = await refused(clientCredentialsGrant(form(await assertion({ key: ec, iss: 'who-knows' })), deps), 'invalid_client', 401, 'UNKNOWN_CLIENT');
    assert.equal(e.description, 'client authentication failed');
  });

  test('iss ≠ sub, or client_id ≠ iss → invalid_client', async () => {
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, sub: 'ehr-url' })), deps), 'invalid_client', 401, 'ASSERTION_SUB');
    await refused(clientCredentialsGrant(form(await assertion({ key: ec }), { client_id: 'ehr-url' }), deps), 'invalid_client', 401, 'CLIENT_ID_MISMATCH');
    await clientCredentialsGrant(form(await assertion({ key: ec }), { client_id: 'ehr-1' }), deps);
  });

  test('expired assertion → invalid_client', async () => {
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, exp: NOW_S - 1 })), deps), 'invalid_client', 401, 'ASSERTION_EXPIRED');
  });

  test('exp more than 5 minutes ahead → invalid_client; exactly 5 minutes is fine; no exp → invalid_client', async () => {
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, exp: NOW_S + 301 })), deps), 'invalid_client', 401, 'ASSERTION_EXP_TOO_FAR');
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, exp: NOW_S + 3600 })), deps), 'invalid_client', 401, 'ASSERTION_EXP_TOO_FAR');
    await clientCredentialsGrant(form(await assertion({ key: ec, exp: NOW_S + 300 })), deps);
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, exp: null })), deps), 'invalid_client', 401, 'ASSERTION_CLAIM_EXP');
  });

  test('replayed jti → invalid_client; the same jti from another client is its own', async () => {
    const jti = randomUUID();
    await clientCredentialsGrant(form(await assertion({ key: ec, jti })), deps);
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, jti })), deps), 'invalid_client', 401, 'ASSERTION_REPLAYED');
    await clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-url', jti }), { scope: 'system/Patient.rs' }), deps);
    await refused(clientCredentialsGrant(form(await assertion({ key: ec, jti: null })), deps), 'invalid_client', 401, 'ASSERTION_CLAIM_JTI');
  });

  test('a jti is not spent by an assertion whose signature fails', async () => {
    const jti = randomUUID();
    await refused(clientCredentialsGrant(form(await assertion({ key: { ...other, kid: ec.kid }, jti })), deps), 'invalid_client', 401);
    await clientCredentialsGrant(form(await assertion({ key: ec, jti })), deps);
  });

  test('wrong aud → invalid_client; aud as an array containing the token URL is fine', async () => {
    const e = await refused(clientCredentialsGrant(form(await assertion({ key: ec, aud: FHIR_BASE })), deps), 'invalid_client', 401, 'ASSERTION_AUD');
    assert.match(e.description, /token endpoint/);
    await clientCredentialsGrant(form(await assertion({ key: ec, aud: [TOKEN_URL, 'https://other'] })), deps);
  });

  test('scope beyond the client, malformed or missing → invalid_scope', async () => {
    const cases: Array<[string | undefined, string]> = [
      ['system/DocumentReference.cruds', 'SCOPE_EXCEEDS_CLIENT'],
      ['system/*.rs', 'SCOPE_EXCEEDS_CLIENT'],
      ['system/Consent.c', 'SCOPE_EXCEEDS_CLIENT'],
      ['user/DocumentReference.r', 'SCOPE_EXCEEDS_CLIENT'],
      ['openid', 'SCOPE_EXCEEDS_CLIENT'],
      ['system/DocumentReference.dus', 'SCOPE_MALFORMED'],
      [undefined, 'SCOPE_MISSING'],
      ['   ', 'SCOPE_MISSING'],
    ];
    for (const [scope, reason] of cases) {
      const e = await refused(clientCredentialsGrant(form(await assertion({ key: ec }), { scope }), deps), 'invalid_scope', 400, reason);
      if (scope?.trim()) assert.ok(e.description.includes(scope), e.description);
    }
  });

  test('missing or invalid ihe_iua → invalid_request naming the claim, never the value', async () => {
    const cases: Array<[Record<string, unknown> | null, RegExp]> = [
      [null, /extensions\.ihe_iua/],
      [{ ...IUA, subject_id: '1010099724' }, /subject_id/], // 10 digits
      [{ ...IUA, subject_id: '101009972455' }, /subject_id/], // 12 digits, not 8 + RPPS
      [{ ...IUA, subject_id: 'ABCDEFGHIJK' }, /subject_id/],
      [{ ...IUA, subject_id: undefined }, /subject_id/],
      [{ ...IUA, subject_name: '' }, /subject_name/],
      [{ ...IUA, subject_name: undefined }, /subject_name/],
      [{ ...IUA, subject_role: undefined }, /subject_role/],
      [{ ...IUA, subject_role: { code: 'medecin' } }, /subject_role/],
      [{ ...IUA, subject_role: [{ code: '10' }, { code: '21' }] }, /subject_role/],
      [{ ...IUA, purpose_of_use: 'emergency' }, /purpose_of_use/],
      [{ ...IUA, purpose_of_use: { code: 'BTG' } }, /purpose_of_use/],
      [{ ...IUA, purpose_of_use: [{ code: 'normal' }, { code: 'bris_de_glace' }] }, /purpose_of_use/],
      [{ ...IUA, purpose_of_use: 'bris_de_glace' }, /justification/],
      [{ ...IUA, purpose_of_use: 'bris_de_glace', justification: '   ' }, /justification/],
      [{ ...IUA, purpose_of_use: 'bris_de_glace', justification: 'x'.repeat(1001) }, /justification/],
      [{ ...IUA, subject_organization_id: 'urn:oid:1.2.3' }, /subject_organization_id/],
    ];
    for (const [iua, claim] of cases) {
      const e = await refused(clientCredentialsGrant(form(await assertion({ key: ec, iua })), deps), 'invalid_request', 400);
      assert.match(e.description, claim);
      assert.ok(!e.description.includes('Jeanne'), 'no personal data in the description');
    }
    const both = await new SignJWT({
      iss: 'ehr-1', sub: 'ehr-1', aud: TOKEN_URL, exp: NOW_S + 60, jti: randomUUID(), ihe_iua: IUA, extensions: { ihe_iua: IUA },
    }).setProtectedHeader({ alg: 'ES384', kid: ec.kid }).sign(ec.privateKey);
    await refused(clientCredentialsGrant(form(both), deps), 'invalid_request', 400, 'IUA_INVALID');
  });

  test('asserting for another establishment → invalid_grant', async () => {
    const e = await refused(
      clientCredentialsGrant(form(await assertion({ key: ec, iua: { ...IUA, subject_organization_id: '130783293' } })), deps),
      'invalid_grant',
      400,
      'IUA_ORGANISATION_MISMATCH',
    );
    assert.match(e.description, /subject_organization_id/);
  });

  test('a client whose keys are at a JWKS URL (real HTTP on 127.0.0.1)', async () => {
    const res = await clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-url' }), { scope: 'system/*.rs' }), deps);
    const ctx = await verify(res.access_token);
    assert.equal(ctx.clientId, 'ehr-url');
    assert.ok(allows(ctx.scopes, 'system', 'Consent', 's'));
    // A key the URL does not serve is refused.
    await refused(
      clientCredentialsGrant(form(await assertion({ key: rsa, iss: 'ehr-url' }), { scope: 'system/*.rs' }), deps),
      'invalid_client',
      401,
      'ASSERTION_SIGNATURE',
    );
    // jku must be the registered URL.
    await clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-url', header: { jku: jwksUrl } }), { scope: 'system/*.rs' }), deps);
    await refused(
      clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-url', header: { jku: 'http://127.0.0.1:1/evil.json' } }), { scope: 'system/*.rs' }), deps),
      'invalid_client',
      401,
      'ASSERTION_JKU_NOT_REGISTERED',
    );
    await refused(
      clientCredentialsGrant(form(await assertion({ key: ec, header: { jku: jwksUrl } })), deps),
      'invalid_client',
      401,
      'ASSERTION_JKU_NOT_REGISTERED',
    );
  });

  test('a JWKS URL that does not answer or is plain HTTP off loopback, or a client with no keys → invalid_client', async () => {
    const down = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}/jwks.json`;
    try {
      const registry = createMemoryClientRegistry([{ clientId: 'ehr-down', name: 'x', finess: FINESS, jwksUrl: url, scopes: ['system/*.rs'], kind: 'system' }]);
      const e = await refused(
        clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-down' }), { scope: 'system/*.rs' }), { ...deps, registry }),
        'invalid_client',
        401,
        'JWKS_UNAVAILABLE',
      );
      assert.equal(e.description, 'client authentication failed');
    } finally {
      await new Promise<void>((r) => down.close(() => r()));
    }
    const insecure = createMemoryClientRegistry([
      { clientId: 'ehr-http', name: 'x', finess: FINESS, jwksUrl: 'http://ehr.example/jwks.json', scopes: ['system/*.rs'], kind: 'system' },
    ]);
    await refused(
      clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-http' }), { scope: 'system/*.rs' }), { ...deps, registry: insecure }),
      'invalid_client',
      401,
      'CLIENT_JWKS_URL_INSECURE',
    );
    await refused(
      clientCredentialsGrant(form(await assertion({ key: ec, iss: 'ehr-nokeys' }), { scope: 'system/*.rs' }), deps),
      'invalid_client',
      401,
      'CLIENT_HAS_NO_KEYS',
    );
  });

  test('access token lifetime follows tokenTtlSeconds', async () => {
    const res = await clientCredentialsGrant(form(await assertion({ key: rsa })), { ...deps, tokenTtlSeconds: 120 });
    assert.equal(res.expires_in, 120);
    assert.equal((await verify(res.access_token)).expiresAt.getTime(), NOW.getTime() + 120_000);
  });
});
