/**
 * A professional's login, once their card (X.509 client certificate) or their identity provider
 * (OpenID Connect) has established who they are: RPPS and profession from the credential; name,
 * specialty and structure completed from Carnet's practitioner register when they are in it (the
 * credential's profession wins: it is what the national directory says today). Ends with a
 * session and a Carnet access token for a `professional` actor. Audited on the system chain.
 */
import { CarnetError } from '../../domain/errors.ts';
import { parseProfessionCode, parseRpps } from '../../domain/identity.ts';
import { appendAudit } from '../../audit/audit.ts';
import type { ProfessionalActor } from '../../auth/access-token.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { createSession, mintSessionToken, sessionBySecret, type SessionTokenResponse, type TokenIssuer } from './sessions.ts';
import type { ClientInfo } from './login.ts';

export const PRO_SCOPES = ['user/*.cruds'];
export const PRO_CLIENT_ID = 'carnet-pro';

/** Who the credential says the professional is. */
export interface ProfessionalIdentity {
  /** RPPS (11 digits) or idNat_PS (`8` + RPPS). */
  idNat: string;
  /** TRE_G15 profession code (bare `10` or `G15_10`). */
  professionCode: string;
  given?: string;
  family?: string;
}

export type ProTokenResponse = SessionTokenResponse & { status: 'authenticated'; professional: { rpps: string; profession_code: string; name: string } };

/** Refusals of a credential, audited before they are thrown. */
export async function auditProFailure(ctx: Ctx, method: 'x509' | 'oidc', reason: string, rpps?: string) {
  await inTransaction(ctx, (tx) =>
    appendAudit(tx.db, tx.engine, {
      actor: { kind: 'professional', id: rpps ?? 'unknown', name: 'login' }, action: 'pro.login', outcome: 'failure', reason, detail: { method }, at: tx.clock(),
    }),
  );
}

export async function professionalActor(ctx: Ctx, id: ProfessionalIdentity): Promise<ProfessionalActor> {
  let rpps: string;
  let professionCode: string;
  try {
    rpps = parseRpps(id.idNat).rpps;
    professionCode = parseProfessionCode(id.professionCode);
  } catch (e) {
    throw new CarnetError('PRO_IDENTITY_INVALID', 'unauthorized', 'The credential does not carry a usable RPPS number and profession code', { cause: e });
  }
  const p = await ctx.db.selectFrom('practitioners').selectAll().where('rpps', '=', rpps).executeTakeFirst();
  const fromCredential = [id.given, id.family].filter((x) => x && x.trim()).join(' ').trim();
  const name = (fromCredential || (p ? `${p.given} ${p.family}`.trim() : '') || rpps).slice(0, 200);
  return {
    kind: 'professional', rpps, name, professionCode, purposeOfUse: 'normal',
    ...(p?.specialty ? { specialty: p.specialty } : {}),
    ...(p?.organisation_finess ? { organisation: p.organisation_finess } : {}),
  };
}

export async function loginProfessional(
  ctx: Ctx,
  issuer: TokenIssuer,
  identity: ProfessionalIdentity,
  o: { method: 'x509' | 'oidc'; notAfter?: Date; client?: ClientInfo; detail?: Record<string, unknown> },
): Promise<ProTokenResponse> {
  let actor: ProfessionalActor;
  try {
    actor = await professionalActor(ctx, identity);
  } catch (e) {
    await auditProFailure(ctx, o.method, e instanceof CarnetError ? e.code : 'PRO_IDENTITY_INVALID');
    throw e;
  }
  const session = await inTransaction(ctx, async (tx) => {
    const s = await createSession(tx, {
      subjectKind: 'professional', subjectId: actor.rpps, method: o.method, actor, notAfter: o.notAfter, userAgent: o.client?.userAgent, ip: o.client?.ip,
    });
    await appendAudit(tx.db, tx.engine, {
      actor: { kind: 'professional', id: actor.rpps, name: actor.name }, action: 'pro.login', outcome: 'success',
      detail: { method: o.method, sessionId: s.id, professionCode: actor.professionCode, ...o.detail }, at: tx.clock(),
    });
    return s;
  });
  const token = await mintSessionToken(ctx, issuer, actor, PRO_SCOPES, session, PRO_CLIENT_ID);
  return { status: 'authenticated', ...token, professional: { rpps: actor.rpps, profession_code: actor.professionCode, name: actor.name } };
}

/** A fresh token from a professional's session secret. */
export async function refreshProToken(ctx: Ctx, issuer: TokenIssuer, sessionSecret: string): Promise<SessionTokenResponse> {
  const s = await sessionBySecret(ctx, sessionSecret);
  if (s.subject_kind !== 'professional' || !s.actor) throw new CarnetError('SESSION_UNKNOWN', 'unauthorized', 'Not a professional’s session');
  return mintSessionToken(ctx, issuer, JSON.parse(s.actor) as ProfessionalActor, PRO_SCOPES, { id: s.id, expiresAt: s.expires_at }, PRO_CLIENT_ID);
}
