/** Establishment authentication (SMART Backend Services + IHE IUA) and Carnet's access tokens. */
export * from './scopes.ts';
export * from './signing-keys.ts';
export * from './iua.ts';
export * from './access-token.ts';
export {
  clientCredentialsGrant,
  OAuthError,
  JWT_BEARER_ASSERTION_TYPE,
  ASSERTION_ALGS,
  MAX_ASSERTION_LIFETIME_SECONDS,
  type OAuthErrorCode,
  type RegisteredClient,
  type ClientRegistry,
  type JtiStore,
  type TokenEndpointDeps,
} from './token-endpoint.ts';
export * from './discovery.ts';
export { createMemoryClientRegistry, createMemoryJtiStore } from './memory-stores.ts';
