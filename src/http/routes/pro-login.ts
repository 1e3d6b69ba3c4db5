/**
 * Professional login (docs/accounts.md): (a) the card — an X.509 client certificate presented
 * over mutual TLS and checked by Node's TLS against the configured CA (`requestCert: true,
 * rejectUnauthorized: false`, so a bad card gets a clear OperationOutcome instead of a TLS abort);
 * (b) an external OpenID Connect provider (Pro Santé Connect model). Both end with a session and
 * a Carnet access token for a `professional` actor.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { CarnetError } from '../../domain/errors.ts';
import { professionalFromSubject } from '../../auth/pki.ts';
import { auditProFailure, loginProfessional, refreshProToken } from '../../services/accounts/professional.ts';
import { ProOidc } from '../../services/accounts/proOidc.ts';
import { revokeSession } from '../../services/accounts/sessions.ts';
import { inTransaction } from '../../services/context.ts';
import { appendAudit } from '../../audit/audit.ts';
import { authenticate } from '../auth.ts';
import type { RouteDeps } from '../app.ts';
import { bodyOf, clientInfo, field, loginRateLimit, noStore, tokenIssuer } from './accounts.ts';

/** Node's verification error codes → Carnet's (the rest: CERT_UNTRUSTED). */
const TLS_ERRORS: Record<string, { code: string; message: string }> = {
  CERT_HAS_EXPIRED: { code: 'CERT_EXPIRED', message: 'The card’s certificate has expired' },
  CERT_NOT_YET_VALID: { code: 'CERT_NOT_YET_VALID', message: 'The card’s certificate is not valid yet' },
  CERT_REVOKED: { code: 'CERT_REVOKED', message: 'The card’s certificate is revoked' },
};

function presentedCard(req: FastifyRequest) {
  const socket = req.raw.socket as TLSSocket;
  if (!socket.encrypted || typeof socket.getPeerCertificate !== 'function') {
    throw new CarnetError('CERT_TLS_REQUIRED', 'unauthorized', 'Card login needs HTTPS with a client certificate (mutual TLS)');
  }
  const peer = socket.getPeerCertificate();
  if (!peer || !Object.keys(peer).length) throw new CarnetError('CERT_MISSING', 'unauthorized', 'No client certificate was presented');
  if (!socket.authorized) {
    const tlsError = String(socket.authorizationError ?? 'UNKNOWN');
    const known = TLS_ERRORS[tlsError];
    throw new CarnetError(known?.code ?? 'CERT_UNTRUSTED', 'unauthorized', known?.message ?? 'The card’s certificate was not issued by an authority this server trusts', {
      details: { tlsError },
    });
  }
  return peer;
}

export function registerProLogin(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  const issuer = tokenIssuer(deps);
  const oidc = deps.proOidc ? new ProOidc(deps.proOidc) : undefined;
  const LOGIN_RATE_LIMIT = loginRateLimit();

  app.post('/pro/login/certificate', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    let peer;
    let identity;
    try {
      peer = presentedCard(req);
      identity = professionalFromSubject(peer.subject as unknown as Record<string, string | string[]>);
    } catch (e) {
      if (e instanceof CarnetError) await auditProFailure(ctx, 'x509', e.code);
      throw e;
    }
    const r = await loginProfessional(ctx, issuer, identity, {
      method: 'x509', notAfter: new Date(peer.valid_to), client: clientInfo(req),
      detail: { certSerial: peer.serialNumber, certSha256: peer.fingerprint256 },
    });
    return noStore(reply).send(r);
  });

  app.get('/pro/login/oidc', { config: LOGIN_RATE_LIMIT }, async (_req, reply) => {
    if (!oidc) throw new CarnetError('OIDC_NOT_CONFIGURED', 'not_found', 'No identity provider is configured for professionals');
    const { url } = await oidc.start(ctx);
    return noStore(reply).redirect(url, 302);
  });

  app.get('/pro/login/oidc/callback', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    if (!oidc) throw new CarnetError('OIDC_NOT_CONFIGURED', 'not_found', 'No identity provider is configured for professionals');
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    const r = await oidc.callback(ctx, issuer, query, clientInfo(req));
    // a browser (the portal) comes back to its login page with the token in the fragment, never in a query
    if (/text\/html/.test(String(req.headers.accept ?? ''))) {
      const frag = new URLSearchParams({ access_token: r.access_token, expires_in: String(r.expires_in), ...(r.session_secret ? { session_secret: r.session_secret } : {}) });
      return noStore(reply).redirect(`/pro/connexion#${frag}`, 303);
    }
    return noStore(reply).send(r);
  });

  app.post('/pro/login/session/token', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const r = await refreshProToken(ctx, issuer, field(bodyOf(req), 'session_secret') as string);
    return noStore(reply).send(r);
  });

  app.post('/pro/logout', async (req, reply) => {
    const caller = await authenticate(req, deps);
    if (caller.actor.kind !== 'professional' || !caller.token.sessionId) {
      throw new CarnetError('SESSION_REQUIRED', 'unauthorized', 'This needs a token from a professional login');
    }
    const sid = caller.token.sessionId;
    await inTransaction(ctx, async (tx) => {
      await revokeSession(tx, 'professional', caller.actor.id, sid, 'logout');
      await appendAudit(tx.db, tx.engine, {
        actor: { kind: 'professional', id: caller.actor.id, name: caller.actor.name }, action: 'pro.logout', outcome: 'success', detail: { sessionId: sid }, at: tx.clock(),
      });
    });
    return reply.code(204).send();
  });
}
