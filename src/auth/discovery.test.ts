import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTokenEndpoint, smartConfiguration } from './discovery.ts';
import { parseScope } from './scopes.ts';

test('smart-configuration advertises backend services and the app launch that exist', () => {
  const c = smartConfiguration('https://carnet.example/fhir', { tokenEndpoint: 'https://carnet.example/oauth2/token' });
  assert.equal(c.token_endpoint, 'https://carnet.example/oauth2/token');
  assert.equal(c.issuer, 'https://carnet.example');
  assert.equal(c.authorization_endpoint, 'https://carnet.example/oauth2/authorize');
  assert.equal(c.revocation_endpoint, 'https://carnet.example/oauth2/revoke');
  assert.equal(c.introspection_endpoint, 'https://carnet.example/oauth2/introspect');
  assert.deepEqual(c.token_endpoint_auth_methods_supported, ['private_key_jwt', 'none']);
  assert.deepEqual(c.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
  assert.deepEqual(c.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials']);
  // PKCE: S256 only, never plain (SMART 2.x)
  assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
  for (const cap of ['client-confidential-asymmetric', 'launch-standalone', 'client-public', 'sso-openid-connect', 'permission-v2', 'context-standalone-patient']) {
    assert.ok(c.capabilities.includes(cap), cap);
  }
  // Nothing claimed that is not built: no EHR launch, no symmetric secrets.
  assert.ok(!c.capabilities.includes('launch-ehr'));
  assert.ok(!c.capabilities.includes('client-confidential-symmetric'));
  // Every advertised clinical scope is one Carnet parses; the others are the SMART launch tokens.
  for (const s of c.scopes_supported) {
    assert.ok(parseScope(s) || ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'online_access'].includes(s), s);
  }
  assert.ok(c.scopes_supported.includes('system/DocumentReference.crus'));
  assert.ok(c.scopes_supported.includes('patient/DocumentReference.rs'));
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
