/**
 * `GET <fhir base>/.well-known/smart-configuration` (SMART App Launch 2.x, "Conformance").
 *
 * What Carnet does: SMART Backend Services for establishment systems (client_credentials +
 * private_key_jwt with RS384/ES384), and SMART App Launch for the catalogue apps the holder
 * connects (services/apps): standalone patient launch, authorization code + PKCE (S256 only),
 * public or asymmetric confidential clients, `openid fhirUser`, rotating refresh tokens
 * (`offline_access` / `online_access`), RFC 7009 revocation and RFC 7662 introspection. No EHR
 * launch (`launch-ehr`): Carnet is not an EHR that embeds apps.
 *
 * The authorize, revocation and introspection endpoints sit beside the token endpoint
 * (`…/token` → `…/authorize`, `…/revoke`, `…/introspect`); the issuer is the FHIR base without
 * its `/fhir` segment.
 */
import { ASSERTION_ALGS } from './token-endpoint.ts';

export interface SmartConfiguration {
  issuer: string;
  jwks_uri?: string;
  authorization_endpoint: string;
  token_endpoint: string;
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  grant_types_supported: string[];
  response_types_supported: string[];
  code_challenge_methods_supported: string[];
  revocation_endpoint: string;
  introspection_endpoint: string;
  scopes_supported: string[];
  capabilities: string[];
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

/** Scopes catalogue apps may ask for: read-only, on the holder's own record. */
export const APP_SCOPES_SUPPORTED = [
  'openid',
  'fhirUser',
  'launch/patient',
  'offline_access',
  'online_access',
  'patient/DocumentReference.rs',
  'patient/Binary.r',
  'patient/*.rs',
  'patient/DocumentReference.read', // v1
];

/**
 * Where the token endpoint lives by default: beside the FHIR base, `<…>/fhir` → `<…>/oauth/token`
 * (so a deployment under a path prefix keeps working). The HTTP layer may pass its own.
 */
export function defaultTokenEndpoint(fhirBase: string): string {
  const base = fhirBase.replace(/\/+$/, '');
  return base.endsWith('/fhir') ? `${base.slice(0, -'/fhir'.length)}/oauth/token` : `${base}/oauth/token`;
}

/** An endpoint beside the token endpoint: `…/token` → `…/<name>`. */
export function siblingEndpoint(tokenEndpoint: string, name: string): string {
  return tokenEndpoint.replace(/\/token$/, '') + `/${name}`;
}

/** The authorization server's issuer for a FHIR base: the base without its `/fhir` segment. */
export function defaultIssuer(fhirBase: string): string {
  const base = fhirBase.replace(/\/+$/, '');
  return base.endsWith('/fhir') ? base.slice(0, -'/fhir'.length) : base;
}

export function smartConfiguration(
  baseUrl: string,
  opts: { tokenEndpoint?: string; jwksUri?: string; scopesSupported?: string[]; issuer?: string } = {},
): SmartConfiguration {
  const tokenEndpoint = opts.tokenEndpoint ?? defaultTokenEndpoint(baseUrl);
  return {
    issuer: opts.issuer ?? defaultIssuer(baseUrl),
    ...(opts.jwksUri ? { jwks_uri: opts.jwksUri } : {}),
    authorization_endpoint: siblingEndpoint(tokenEndpoint, 'authorize'),
    token_endpoint: tokenEndpoint,
    // `none`: public apps (PKCE); `private_key_jwt`: establishment systems and confidential apps
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    revocation_endpoint: siblingEndpoint(tokenEndpoint, 'revoke'),
    introspection_endpoint: siblingEndpoint(tokenEndpoint, 'introspect'),
    scopes_supported: [...(opts.scopesSupported ?? [...BACKEND_SCOPES_SUPPORTED, ...APP_SCOPES_SUPPORTED])],
    capabilities: [
      'launch-standalone',
      'context-standalone-patient',
      'client-public',
      'client-confidential-asymmetric',
      'sso-openid-connect',
      'permission-offline',
      'permission-online',
      'permission-patient',
      'permission-v2',
      'permission-v1',
    ],
  };
}
