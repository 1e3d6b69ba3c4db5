/**
 * `carnet token --as …`: an access token for any actor, signed with Carnet's own key — for
 * operators, demos and tests. `practitioner:<RPPS>` (registered practitioners take their profile
 * from the store), `holder:<record id or INS>`, `operator:<id>`.
 */
import { invalid, notFound } from '../domain/errors.ts';
import { parseRpps } from '../domain/identity.ts';
import { parseIns } from '../domain/ins.ts';
import type { AccessMode } from '../domain/access/types.ts';
import { mintToken, type TokenActor, type TokenResponse } from '../auth/access-token.ts';
import type { SigningKey } from '../auth/signing-keys.ts';
import { DEFAULT_SYSTEM_SCOPES } from './clients.ts';
import type { Ctx } from './context.ts';

export interface MintRequest {
  as: string;
  mode?: AccessMode;
  justification?: string;
  /** For unregistered practitioners. */
  name?: string;
  professionCode?: string;
  organisation?: string;
  scopes?: string[];
  ttlSeconds?: number;
}

export async function mintActorToken(ctx: Ctx, signer: SigningKey, baseUrl: string, req: MintRequest): Promise<TokenResponse> {
  const [kind, ...rest] = req.as.split(':');
  const id = rest.join(':');
  if (!id) throw invalid('TOKEN_AS_INVALID', '--as takes kind:id (practitioner:RPPS, holder:INS or record id, operator:id)');
  let actor: TokenActor;
  let scopes = req.scopes;
  if (kind === 'practitioner' || kind === 'professional') {
    const { rpps } = parseRpps(id);
    const p = await ctx.db.selectFrom('practitioners').selectAll().where('rpps', '=', rpps).executeTakeFirst();
    const professionCode = req.professionCode ?? p?.profession_code;
    if (!professionCode) throw notFound('PRACTITIONER_UNKNOWN', 'Unknown practitioner: give --profession and --name');
    actor = {
      kind: 'professional', rpps, name: req.name ?? (p ? `${p.given} ${p.family}` : rpps), professionCode,
      ...(p?.specialty ? { specialty: p.specialty } : {}),
      ...((req.organisation ?? p?.organisation_finess) ? { organisation: (req.organisation ?? p?.organisation_finess)! } : {}),
      purposeOfUse: req.mode ?? 'normal',
      ...(req.justification ? { justification: req.justification } : {}),
    };
    scopes ??= ['user/*.cruds'];
  } else if (kind === 'holder') {
    let row = await ctx.db.selectFrom('records').select(['id']).where('id', '=', id).executeTakeFirst();
    if (!row) row = await ctx.db.selectFrom('records').select(['id']).where('ins', '=', parseIns(id).value).executeTakeFirst();
    if (!row) throw notFound('RECORD_UNKNOWN', 'No record for this id or INS');
    actor = { kind: 'holder', id: row.id, name: req.name ?? 'Titulaire' };
    scopes ??= ['patient/*.cruds'];
  } else if (kind === 'operator') {
    actor = { kind: 'operator', id, name: req.name ?? id };
    scopes ??= DEFAULT_SYSTEM_SCOPES;
  } else {
    throw invalid('TOKEN_AS_INVALID', `Unknown actor kind ${kind}`);
  }
  return mintToken(actor, scopes, signer, { issuer: baseUrl, audience: `${baseUrl}/fhir`, ttlSeconds: req.ttlSeconds ?? 3600, now: ctx.clock });
}
