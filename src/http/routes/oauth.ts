/**
 * The token endpoint, Carnet's JWKS and the SMART configuration. `POST /oauth2/token` is the one
 * endpoint smart-configuration names, for every grant: `client_credentials` (SMART Backend
 * Services, auth/token-endpoint.ts), `authorization_code` and `refresh_token` (catalogue apps,
 * services/apps/tokens.ts); anything else is `unsupported_grant_type` (from the backend-services
 * grant, as before).
 */
import type { FastifyInstance } from 'fastify';
import { clientCredentialsGrant, OAuthError } from '../../auth/token-endpoint.ts';
import { appTokenGrant } from '../../services/apps/tokens.ts';
import { smartConfiguration } from '../../auth/discovery.ts';
import { clientRegistry, jtiStore } from '../../services/clients.ts';
import { appendAudit } from '../../audit/audit.ts';
import { inTransaction } from '../../services/context.ts';
import type { RouteDeps } from '../app.ts';

export const TOKEN_PATH = '/oauth2/token';
export const JWKS_PATH = '/oauth2/jwks';

export function registerOAuth(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const params = new URLSearchParams(body as string);
    const form: Record<string, string> = {};
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key);
      // RFC 6749 §3.2: parameters MUST NOT be included more than once
      if (all.length > 1) return done(new OAuthError('invalid_request', `parameter ${key} repeated`, 'REPEATED_PARAMETER'));
      form[key] = all[0];
    }
    done(null, form);
  });

  app.post(TOKEN_PATH, async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string>;
    if (typeof form !== 'object' || Array.isArray(form)) throw new OAuthError('invalid_request', 'form body expected', 'NOT_FORM');
    const requestUrl = `${req.protocol}://${req.host}${TOKEN_PATH}`;
    const audiences = [...new Set([`${deps.baseUrl}${TOKEN_PATH}`, requestUrl])];
    const forApp = form.grant_type === 'authorization_code' || form.grant_type === 'refresh_token';
    try {
      const token = forApp
        ? await appTokenGrant(ctx, form, {
          signer: deps.signingKey, issuer: deps.issuer, fhirBase: deps.fhirBase, assertionAudiences: [...new Set([...audiences, deps.issuer])],
        })
        : await clientCredentialsGrant(form, {
          registry: clientRegistry(ctx),
          jtiStore: jtiStore(ctx),
          signer: deps.signingKey,
          audiences,
          issuer: deps.issuer,
          fhirBase: deps.fhirBase,
          now: deps.now,
        });
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(token);
    } catch (e) {
      if (e instanceof OAuthError) {
        await inTransaction(ctx, (tx) =>
          appendAudit(tx.db, tx.engine, {
            actor: { kind: 'client', id: String(form.client_id ?? 'unknown').slice(0, 100), name: forApp ? 'app token request' : 'token request' },
            action: 'oauth.token', outcome: 'failure', reason: e.reason, at: tx.clock(),
          }),
        );
      }
      throw e;
    }
  });

  app.get(JWKS_PATH, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(deps.signingKey.publicJwks()));

  app.get('/fhir/.well-known/smart-configuration', async () =>
    smartConfiguration(deps.fhirBase, { tokenEndpoint: `${deps.baseUrl}${TOKEN_PATH}`, jwksUri: `${deps.baseUrl}${JWKS_PATH}` }),
  );
}
