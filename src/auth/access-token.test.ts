import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { CarnetError } from '../domain/errors.ts';
import { bearerToken, mintToken, toDomainActor, verifyAccessToken, type TokenActor } from './access-token.ts';
import { createInMemorySigningKey, type TokenSigner } from './signing-keys.ts';
import { allows } from './scopes.ts';

const ISSUER = 'https://carnet.example';
const FHIR_BASE = 'https://carnet.example/fhir';
const NOW = new Date('2026-03-02T10:00:00Z');
const NOW_S = NOW.getTime() / 1000;

const doctor: TokenActor = {
  kind: 'professional',
  rpps: '10100997245',
  name: 'Dr Jeanne Martin',
  professionCode: '10',
  organisation: '750712184',
  purposeOfUse: 'normal',
};

const key = await createInMemorySigningKey();
const verifyDeps = { verifier: key.verifier, issuer: ISSUER, audience: FHIR_BASE, now: () => NOW };
const mint = (actor: TokenActor = doctor, scopes: string | string[] = 'system/DocumentReference.rs', ttlSeconds?: number) =>
  mintToken(actor, scopes, key, { issuer: ISSUER, audience: FHIR_BASE, clientId: 'ehr-1', now: () => NOW, ttlSeconds });

async function rejected(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CarnetError, String(e));
    assert.equal(e.kind, 'unauthorized');
    assert.equal(e.code, code);
    return true;
  });
}

test('mintToken → verifyAccessToken round trip, with the documented claims', async () => {
  const res = await mint();
  assert.equal(res.token_type, 'Bearer');
  assert.equal(res.expires_in, 300);
  const header = decodeProtectedHeader(res.access_token);
  assert.deepEqual([header.alg, header.typ, header.kid], ['ES256', 'at+jwt', key.kid]);
  const claims = decodeJwt(res.access_token);
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.aud, FHIR_BASE);
  assert.equal(claims.sub, 'ehr-1');
  assert.equal(claims.client_id, 'ehr-1');
  assert.equal(claims.exp, NOW_S + 300);
  assert.equal(claims.scope, 'system/DocumentReference.rs');
  assert.deepEqual(claims.carnet_actor, {
    kind: 'professional', rpps: '10100997245', name: 'Dr Jeanne Martin', profession_code: '10',
    organisation: '750712184', purpose_of_use: 'normal',
  });

  const ctx = await verifyAccessToken(res.access_token, verifyDeps);
  assert.equal(ctx.clientId, 'ehr-1');
  assert.equal(ctx.tokenId, claims.jti);
  assert.deepEqual(ctx.actor, doctor);
  assert.equal(ctx.issuedAt.getTime(), NOW.getTime());
  assert.ok(allows(ctx.scopes, 'system', 'DocumentReference', 's'));
  assert.ok(!allows(ctx.scopes, 'system', 'DocumentReference', 'c'));
});

test('tokens for other actors (operator, holder, system) keep their kind', async () => {
  for (const actor of [
    { kind: 'operator', id: 'op-1', name: 'Exploitation' },
    { kind: 'holder', id: 'h-42', name: 'Camille Durand' },
    { kind: 'system', id: 'carnet', name: 'Carnet jobs' },
  ] as TokenActor[]) {
    const ctx = await verifyAccessToken((await mint(actor, ['user/*.rs'])).access_token, verifyDeps);
    assert.deepEqual(ctx.actor, actor);
  }
});

test('mintToken refuses incomplete actors, bad scopes and absurd lifetimes', async () => {
  await assert.rejects(mint({ ...doctor, rpps: '123' } as TokenActor), { code: 'TOKEN_ACTOR_INVALID' });
  await assert.rejects(mint({ ...doctor, purposeOfUse: 'bris_de_glace' } as TokenActor), { code: 'TOKEN_ACTOR_INVALID' });
  await assert.rejects(mint({ ...doctor, organisation: 'nope' } as TokenActor), { code: 'TOKEN_ACTOR_INVALID' });
  await assert.rejects(mint({ kind: 'operator', id: '', name: 'x' }), { code: 'TOKEN_ACTOR_INVALID' });
  await assert.rejects(mint(doctor, 'system/DocumentReference.dus'), { code: 'SCOPE_INVALID' });
  await assert.rejects(mint(doctor, 'system/DocumentReference.rs', 0), { code: 'TOKEN_TTL_INVALID' });
  await assert.rejects(mint(doctor, 'system/DocumentReference.rs', 86_401), { code: 'TOKEN_TTL_INVALID' });
});

test('expired → TOKEN_EXPIRED (and valid until the second before)', async () => {
  const { access_token } = await mint(doctor, 'system/Patient.rs', 60);
  await verifyAccessToken(access_token, { ...verifyDeps, now: () => new Date(NOW.getTime() + 59_000) });
  await rejected(verifyAccessToken(access_token, { ...verifyDeps, now: () => new Date(NOW.getTime() + 60_000) }), 'TOKEN_EXPIRED');
});

test('wrong audience → TOKEN_WRONG_AUDIENCE', async () => {
  const { access_token } = await mint();
  await rejected(verifyAccessToken(access_token, { ...verifyDeps, audience: 'https://other.example/fhir' }), 'TOKEN_WRONG_AUDIENCE');
});

test('wrong issuer → TOKEN_INVALID', async () => {
  const { access_token } = await mint();
  await rejected(verifyAccessToken(access_token, { ...verifyDeps, issuer: 'https://other.example' }), 'TOKEN_INVALID');
});

test('signed by another key → TOKEN_INVALID, even with our kid, even if also expired or for another audience', async () => {
  const { privateKey } = await generateKeyPair('ES256');
  const impostor: TokenSigner = {
    kid: key.kid,
    alg: 'ES256',
    sign: (claims, typ) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ }).sign(privateKey),
  };
  const forged = await mintToken(doctor, 'system/*.cruds', impostor, { issuer: ISSUER, audience: FHIR_BASE, now: () => NOW });
  assert.equal(decodeProtectedHeader(forged.access_token).kid, key.kid);
  await rejected(verifyAccessToken(forged.access_token, verifyDeps), 'TOKEN_INVALID');
  const stranger = await createInMemorySigningKey();
  const other = await mintToken(doctor, 'system/*.cruds', stranger, { issuer: ISSUER, audience: FHIR_BASE, now: () => NOW });
  await rejected(verifyAccessToken(other.access_token, verifyDeps), 'TOKEN_INVALID');
  // Claim-specific codes only for tokens we really signed.
  await rejected(verifyAccessToken(forged.access_token, { ...verifyDeps, audience: 'x' }), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(forged.access_token, { ...verifyDeps, now: () => new Date(NOW.getTime() + 3600_000) }), 'TOKEN_INVALID');
  // A JWKS given as plain JSON works the same way.
  await rejected(verifyAccessToken(forged.access_token, { ...verifyDeps, verifier: key.publicJwks() }), 'TOKEN_INVALID');
  await verifyAccessToken((await mint()).access_token, { ...verifyDeps, verifier: key.publicJwks() });
});

test('alg none (hand-built) and HS256 → TOKEN_INVALID', async () => {
  const genuine = decodeJwt((await mint(doctor, 'system/*.cruds')).access_token);
  const enc = (o: object) => base64url.encode(JSON.stringify(o));
  const none = `${enc({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${enc(genuine)}.`;
  await rejected(verifyAccessToken(none, verifyDeps), 'TOKEN_INVALID');
  const hs = await new SignJWT(genuine)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
    .sign(new TextEncoder().encode(JSON.stringify(key.publicJwks().keys[0])));
  await rejected(verifyAccessToken(hs, verifyDeps), 'TOKEN_INVALID');
  // ES384 with a fresh key: algorithm not Carnet's.
  const es384 = await new SignJWT(genuine).setProtectedHeader({ alg: 'ES384', typ: 'at+jwt' }).sign((await generateKeyPair('ES384')).privateKey);
  await rejected(verifyAccessToken(es384, verifyDeps), 'TOKEN_INVALID');
});

test('a JWT signed by Carnet but not an access token (typ, missing actor, bad scope) → TOKEN_INVALID', async () => {
  const good = decodeJwt((await mint()).access_token);
  const sign = (claims: Record<string, unknown>, typ = 'at+jwt') => key.sign(claims, typ);
  await rejected(verifyAccessToken(await sign(good, 'JWT'), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, carnet_actor: undefined }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, carnet_actor: { kind: 'insurer', id: 'x', name: 'y' } }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, scope: 'system/Patient.xyz' }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, client_id: 'someone-else' }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, jti: undefined }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken(await sign({ ...good, jti: randomUUID(), nbf: NOW_S + 60 }), verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken('', verifyDeps), 'TOKEN_INVALID');
  await rejected(verifyAccessToken('a.b.c', verifyDeps), 'TOKEN_INVALID');
});

test('toDomainActor and bearerToken', () => {
  assert.deepEqual(toDomainActor({ ...doctor, purposeOfUse: 'centre_15', specialty: 'SM26' }), {
    actor: { kind: 'professional', id: '10100997245', name: 'Dr Jeanne Martin', professionCode: '10', specialty: 'SM26', organisation: '750712184' },
    mode: 'centre_15',
  });
  assert.deepEqual(toDomainActor({ kind: 'operator', id: 'op', name: 'Op' }), { actor: { kind: 'operator', id: 'op', name: 'Op' }, mode: 'normal' });
  assert.equal(bearerToken('Bearer abc.def-ghi_jkl'), 'abc.def-ghi_jkl');
  assert.equal(bearerToken('bearer abc'), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer '), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});
