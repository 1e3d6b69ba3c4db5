/**
 * `GET <fhir base>/.well-known/smart-configuration` (SMART App Launch 2.x, "Conformance").
 *
 * Only what Carnet does today: SMART Backend Services (client_credentials + private_key_jwt with
 * RS384/ES384). `authorization_endpoint` and `code_challenge_methods_supported` are left out on
 * purpose: the authorization-code + PKCE flow for apps and portals is not built yet, and SMART only
 * requires `authorization_endpoint` of servers claiming `launch-ehr`/`launch-standalone`. Add them
 * (and `launch-standalone`, `client-public`, `permission-patient`, …) with that flow.
 */
import { ASSERTION_ALGS } from './token-endpoint.ts';

export interface SmartConfiguration {
  token_endpoint: string;
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  grant_types_supported: string[];
  scopes_supported: string[];
  capabilities: string[];
  jwks_uri?: string;
}

/** Scopes establishment systems may ask for (a client gets at most what it is registered for). */
export const BACKEND_SCOPES_SUPPORTED = [
  'system/Patient.rs', // TD0.2: does the record exist, authorization status
  'system/DocumentReference.crus', // TD2 feed (through the ITI-65 transaction), TD3.1 search, TD3.3 PATCH
  'system/Binary.r', // TD3.2 document content (ITI-68)
  'system/List.crs', // ITI-65 submission sets
  'system/Consent.crus', // TD0.3 consent
  'system/AuditEvent.rs', // access history (médecin traitant)
  'system/*.rs', // v2 wildcard read + search
  'system/DocumentReference.read', // SMART v1 syntax is understood too
];

/**
 * Where the token endpoint lives by default: beside the FHIR base, `<…>/fhir` → `<…>/oauth/token`
 * (so a deployment under a path prefix keeps working). The HTTP layer may pass its own.
 */
export function defaultTokenEndpoint(fhirBase: string): string {
  const base = fhirBase.replace(/\/+$/, '');
  return base.endsWith('/fhir') ? `${base.slice(0, -'/fhir'.length)}/oauth/token` : `${base}/oauth/token`;
}

export function smartConfiguration(
  baseUrl: string,
  opts: { tokenEndpoint?: string; jwksUri?: string; scopesSupported?: string[] } = {},
): SmartConfiguration {
  return {
    token_endpoint: opts.tokenEndpoint ?? defaultTokenEndpoint(baseUrl),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    grant_types_supported: ['client_credentials'],
    scopes_supported: [...(opts.scopesSupported ?? BACKEND_SCOPES_SUPPORTED)],
    capabilities: ['client-confidential-asymmetric', 'permission-v2', 'permission-v1'],
    ...(opts.jwksUri ? { jwks_uri: opts.jwksUri } : {}),
  };
}
