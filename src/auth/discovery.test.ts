import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTokenEndpoint, smartConfiguration } from './discovery.ts';
import { parseScope } from './scopes.ts';

test('smart-configuration advertises backend services only', () => {
  const c = smartConfiguration('https://carnet.example/fhir');
  assert.equal(c.token_endpoint, 'https://carnet.example/oauth/token');
  assert.deepEqual(c.token_endpoint_auth_methods_supported, ['private_key_jwt']);
  assert.deepEqual(c.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
  assert.deepEqual(c.grant_types_supported, ['client_credentials']);
  assert.ok(c.capabilities.includes('client-confidential-asymmetric'));
  // Nothing claimed that is not built yet.
  for (const absent of ['authorization_endpoint', 'code_challenge_methods_supported', 'issuer', 'jwks_uri']) {
    assert.ok(!(absent in c), absent);
  }
  for (const cap of ['launch-ehr', 'launch-standalone', 'client-public', 'sso-openid-connect', 'permission-offline']) {
    assert.ok(!c.capabilities.includes(cap), cap);
  }
  // Every advertised scope is one Carnet parses.
  for (const s of c.scopes_supported) assert.ok(parseScope(s), s);
  assert.ok(c.scopes_supported.includes('system/DocumentReference.crus'));
});

test('token endpoint placement and overrides', () => {
  assert.equal(defaultTokenEndpoint('https://h.example/carnet/fhir/'), 'https://h.example/carnet/oauth/token');
  assert.equal(defaultTokenEndpoint('https://h.example/api'), 'https://h.example/api/oauth/token');
  const c = smartConfiguration('https://h.example/fhir', {
    tokenEndpoint: 'https://auth.example/token',
    jwksUri: 'https://h.example/.well-known/jwks.json',
    scopesSupported: ['system/Patient.rs'],
  });
  assert.equal(c.token_endpoint, 'https://auth.example/token');
  assert.equal(c.jwks_uri, 'https://h.example/.well-known/jwks.json');
  assert.deepEqual(c.scopes_supported, ['system/Patient.rs']);
});
