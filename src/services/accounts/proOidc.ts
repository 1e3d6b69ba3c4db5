/**
 * Professional login through an external OpenID Connect provider (the Pro Santé Connect model),
 * with `openid-client`: authorization code flow with PKCE (S256), `state` (single use, 10 minutes,
 * kept server-side as a hash) and `nonce`; the ID token's signature, issuer, audience, nonce and
 * dates are checked by openid-client; claims are read from the ID token and the UserInfo response.
 *
 * Claims (Pro Santé Connect names by default, configurable as dot paths):
 *   RPPS        `SubjectNameID` (idNat_PS, `8` + RPPS), else `preferred_username`
 *   profession  `SubjectRefPro.exercices.0.codeProfession`
 *   name        `given_name`, `family_name`
 */
import * as oidc from 'openid-client';
import { CarnetError } from '../../domain/errors.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { sha256, type TokenIssuer } from './sessions.ts';
import { auditProFailure, loginProfessional, type ProTokenResponse } from './professional.ts';
import type { ClientInfo } from './login.ts';

export interface ProOidcConfig {
  /** The provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Carnet's callback, registered at the provider: `<base URL>/pro/login/oidc/callback`. */
  redirectUri: string;
  scope?: string;
  acrValues?: string;
  rppsClaim?: string;
  professionClaim?: string;
  /** Plain-HTTP provider (tests, demos on one machine only). */
  allowHttp?: boolean;
}

export const OIDC_DEFAULTS = {
  scope: 'openid scope_all',
  rppsClaim: 'SubjectNameID',
  professionClaim: 'SubjectRefPro.exercices.0.codeProfession',
  stateTtlMs: 10 * 60_000,
} as const;

/**
 * From the environment: CARNET_PRO_OIDC_ISSUER, CARNET_PRO_OIDC_CLIENT_ID,
 * CARNET_PRO_OIDC_CLIENT_SECRET, CARNET_PRO_OIDC_SCOPE, CARNET_PRO_OIDC_ACR_VALUES,
 * CARNET_PRO_OIDC_RPPS_CLAIM, CARNET_PRO_OIDC_PROFESSION_CLAIM, CARNET_PRO_OIDC_ALLOW_HTTP=1.
 */
export function proOidcFromEnv(env: NodeJS.ProcessEnv, baseUrl: string): ProOidcConfig | undefined {
  if (!env.CARNET_PRO_OIDC_ISSUER || !env.CARNET_PRO_OIDC_CLIENT_ID) return undefined;
  return {
    issuer: env.CARNET_PRO_OIDC_ISSUER,
    clientId: env.CARNET_PRO_OIDC_CLIENT_ID,
    clientSecret: env.CARNET_PRO_OIDC_CLIENT_SECRET || undefined,
    redirectUri: `${baseUrl}/pro/login/oidc/callback`,
    scope: env.CARNET_PRO_OIDC_SCOPE || undefined,
    acrValues: env.CARNET_PRO_OIDC_ACR_VALUES || undefined,
    rppsClaim: env.CARNET_PRO_OIDC_RPPS_CLAIM || undefined,
    professionClaim: env.CARNET_PRO_OIDC_PROFESSION_CLAIM || undefined,
    allowHttp: env.CARNET_PRO_OIDC_ALLOW_HTTP === '1',
  };
}

const pick = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

/** The claim the ID token check failed on (`nonce`, `aud`, `iss` …), found in openid-client's error causes. */
function failedClaim(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 5; i++) {
    const claim = (c as { claim?: unknown }).claim;
    if (typeof claim === 'string') return claim;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

function oidcError(e: unknown): CarnetError {
  const claim = failedClaim(e);
  if (claim === 'nonce') return new CarnetError('OIDC_NONCE_MISMATCH', 'unauthorized', 'The identity provider’s ID token does not carry the nonce of this login');
  if (claim === 'aud' || claim === 'azp') return new CarnetError('OIDC_AUDIENCE_MISMATCH', 'unauthorized', 'The identity provider’s ID token was issued for another client');
  if (claim === 'iss') return new CarnetError('OIDC_ISSUER_MISMATCH', 'unauthorized', 'The ID token comes from another issuer');
  if (e instanceof oidc.AuthorizationResponseError) return new CarnetError('OIDC_DENIED', 'unauthorized', 'The identity provider refused the login');
  if (e instanceof oidc.ResponseBodyError) return new CarnetError('OIDC_TOKEN_REFUSED', 'unauthorized', 'The identity provider refused the authorization code');
  return new CarnetError('OIDC_LOGIN_FAILED', 'unauthorized', 'The login through the identity provider failed');
}

export class ProOidc {
  private config?: Promise<oidc.Configuration>;

  constructor(readonly cfg: ProOidcConfig) {}

  private configuration(): Promise<oidc.Configuration> {
    this.config ??= oidc
      .discovery(new URL(this.cfg.issuer), this.cfg.clientId, this.cfg.clientSecret, undefined, {
        ...(this.cfg.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((e) => {
        this.config = undefined; // try the discovery again next time
        throw new CarnetError('OIDC_PROVIDER_UNAVAILABLE', 'conflict', 'The identity provider cannot be reached', { cause: e });
      });
    return this.config;
  }

  /** Step 1: where to send the professional's browser. */
  async start(ctx: Ctx): Promise<{ url: string }> {
    const config = await this.configuration();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const now = ctx.clock();
    await inTransaction(ctx, async (tx) => {
      await tx.db.deleteFrom('pro_login_states').where('expires_at', '<', now.toISOString()).execute();
      await tx.db.insertInto('pro_login_states').values({
        id: sha256(state), nonce, code_verifier: verifier, created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + OIDC_DEFAULTS.stateTtlMs).toISOString(),
      }).execute();
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.cfg.redirectUri,
      scope: this.cfg.scope ?? OIDC_DEFAULTS.scope,
      state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(this.cfg.acrValues ? { acr_values: this.cfg.acrValues } : {}),
    });
    return { url: url.href };
  }

  /** Step 2: the provider sent the browser back with `code` and `state`. */
  async callback(ctx: Ctx, issuer: TokenIssuer, query: URLSearchParams, client?: ClientInfo): Promise<ProTokenResponse> {
    const state = query.get('state');
    if (!state) {
      await auditProFailure(ctx, 'oidc', 'OIDC_STATE_MISSING');
      throw new CarnetError('OIDC_STATE_UNKNOWN', 'unauthorized', 'This login answer carries no state');
    }
    const pending = await inTransaction(ctx, async (tx) => {
      const row = await tx.db.selectFrom('pro_login_states').selectAll().where('id', '=', sha256(state)).executeTakeFirst();
      // single use: gone whatever happens next
      if (row) await tx.db.deleteFrom('pro_login_states').where('id', '=', row.id).execute();
      return row;
    });
    if (!pending || ctx.clock().toISOString() >= pending.expires_at) {
      await auditProFailure(ctx, 'oidc', 'OIDC_STATE_UNKNOWN');
      throw new CarnetError('OIDC_STATE_UNKNOWN', 'unauthorized', 'This login answer is unknown, already used or expired: start again');
    }
    const config = await this.configuration();
    const currentUrl = new URL(this.cfg.redirectUri);
    currentUrl.search = query.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.code_verifier, expectedNonce: pending.nonce, expectedState: state, idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new CarnetError('OIDC_LOGIN_FAILED', 'unauthorized', 'No ID token');
      claims = { ...idClaims };
      if (config.serverMetadata().userinfo_endpoint) {
        Object.assign(claims, await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub));
      }
    } catch (e) {
      const err = e instanceof CarnetError ? e : oidcError(e);
      await auditProFailure(ctx, 'oidc', err.code);
      throw err;
    }
    const idNat = pick(claims, this.cfg.rppsClaim ?? OIDC_DEFAULTS.rppsClaim) ?? claims.preferred_username;
    const profession = pick(claims, this.cfg.professionClaim ?? OIDC_DEFAULTS.professionClaim);
    return loginProfessional(ctx, issuer, {
      idNat: typeof idNat === 'string' ? idNat : '',
      professionCode: typeof profession === 'string' ? profession : '',
      given: typeof claims.given_name === 'string' ? claims.given_name : undefined,
      family: typeof claims.family_name === 'string' ? claims.family_name : undefined,
    }, { method: 'oidc', client, detail: { issuer: this.cfg.issuer } });
  }
}
