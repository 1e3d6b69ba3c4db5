/**
 * The verified-token cache of `authenticate`: a cached token is still refused once expired, is not
 * shared between audiences, and the session check stays per request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { createInMemorySigningKey } from '../auth/signing-keys.ts';
import { mintToken } from '../auth/access-token.ts';
import { CarnetError } from '../domain/errors.ts';
import { authenticate, type AuthDeps } from './auth.ts';

const ISS = 'https://carnet.test';
const FHIR = 'https://carnet.test/fhir';
const DR = { kind: 'professional', rpps: '10100997245', name: 'Dr Test', professionCode: '10', purposeOfUse: 'normal' } as const;
const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;

async function refused(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof CarnetError && e.code === code);
}

test('a cached token is accepted until the second before exp, then refused TOKEN_EXPIRED', async () => {
  const signingKey = await createInMemorySigningKey();
  let now = new Date('2026-03-01T10:00:00Z');
  const deps: AuthDeps = { signingKey, issuer: ISS, fhirBase: FHIR, now: () => now };
  const { access_token } = await mintToken(DR, 'user/*.rs', signingKey, { issuer: ISS, audience: FHIR, ttlSeconds: 60, now: () => now });
  assert.equal((await authenticate(req(access_token), deps)).actor.id, DR.rpps);
  now = new Date(now.getTime() + 59_999);
  assert.equal((await authenticate(req(access_token), deps)).actor.id, DR.rpps, 'hit, still valid');
  now = new Date(now.getTime() + 1);
  await refused(authenticate(req(access_token), deps), 'TOKEN_EXPIRED');
  // and again (the entry is gone, the refusal stays)
  await refused(authenticate(req(access_token), deps), 'TOKEN_EXPIRED');
});

test('a token verified for one audience or key is not accepted for another', async () => {
  const signingKey = await createInMemorySigningKey();
  const now = () => new Date('2026-03-01T10:00:00Z');
  const deps: AuthDeps = { signingKey, issuer: ISS, fhirBase: FHIR, now };
  const { access_token } = await mintToken(DR, 'user/*.rs', signingKey, { issuer: ISS, audience: FHIR, now });
  await authenticate(req(access_token), deps);
  await refused(authenticate(req(access_token), { ...deps, fhirBase: 'https://other.test/fhir' }), 'TOKEN_WRONG_AUDIENCE');
  await refused(authenticate(req(access_token), { ...deps, signingKey: await createInMemorySigningKey() }), 'TOKEN_INVALID');
});

test('the session check runs on every request, cached or not', async () => {
  const signingKey = await createInMemorySigningKey();
  const now = () => new Date('2026-03-01T10:00:00Z');
  let revoked = false;
  let checks = 0;
  const deps: AuthDeps = {
    signingKey, issuer: ISS, fhirBase: FHIR, now,
    checkSession: async () => {
      checks++;
      if (revoked) throw new CarnetError('SESSION_REVOKED', 'unauthorized', 'revoked');
    },
  };
  const { access_token } = await mintToken(DR, 'user/*.rs', signingKey, { issuer: ISS, audience: FHIR, now, sessionId: 'sess-1' });
  await authenticate(req(access_token), deps);
  await authenticate(req(access_token), deps);
  assert.equal(checks, 2);
  revoked = true;
  await refused(authenticate(req(access_token), deps), 'SESSION_REVOKED');
});
