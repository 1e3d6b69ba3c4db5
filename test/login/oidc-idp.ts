/**
 * A real external OpenID Connect provider for the tests (`oidc-provider` 9 on 127.0.0.1), shaped
 * like Pro Santé Connect: users carry `SubjectNameID` (idNat_PS) and `SubjectRefPro` (exercises with
 * a profession code) under the `scope_all` scope. Its signing key is made here, so a test can also
 * make it hand out a correctly signed ID token for another audience (`tamper.audience`).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import type { ProOidcConfig } from '../../src/services/accounts/proOidc.ts';

export interface IdpUser {
  given_name: string;
  family_name: string;
  SubjectNameID: string;
  SubjectRefPro: { exercices: Array<{ codeProfession: string; codeCategorieProfessionnelle?: string }> };
}

export interface Idp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Set `audience` to make the next token responses carry an ID token re-signed for it. */
  tamper: { audience?: string };
  carnetConfig(carnetBaseUrl: string): ProOidcConfig;
  close(): Promise<void>;
}

export async function startIdp(opts: { redirectUri: string; users: Record<string, IdpUser> }): Promise<Idp> {
  const { default: Provider } = await import('oidc-provider');
  const server: HttpServer = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'idp-test-key', alg: 'RS256', use: 'sig' };
  const clientId = 'carnet-test-client';
  const clientSecret = 'a-long-client-secret-for-the-test-idp-0123456789';
  const tamper: Idp['tamper'] = {};

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
    claims: { openid: ['sub'], scope_all: ['given_name', 'family_name', 'SubjectNameID', 'SubjectRefPro', 'preferred_username'] },
    pkce: { required: () => true },
    findAccount: async (_ctx, id) => {
      const user = opts.users[id];
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: user.SubjectNameID, ...user }) };
    },
    // a first-party login: no consent screen
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid scope_all');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (tamper.audience && ctx.path === '/token' && body && typeof body === 'object' && typeof body.id_token === 'string') {
      const header = decodeProtectedHeader(body.id_token);
      const claims = decodeJwt(body.id_token);
      body.id_token = await new SignJWT({ ...claims, aud: tamper.audience })
        .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? jwk.kid, ...(header.typ ? { typ: header.typ } : {}) })
        .sign(privateKey);
    }
  });
  server.on('request', provider.callback());

  return {
    issuer, clientId, clientSecret, tamper,
    carnetConfig: (carnetBaseUrl: string) => ({
      issuer, clientId, clientSecret, redirectUri: `${carnetBaseUrl}/pro/login/oidc/callback`, allowHttp: true,
    }),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
