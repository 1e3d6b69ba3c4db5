/**
 * The portal's JSON endpoints beyond FHIR (`/api/…`): the holder's space (home, documents, who can
 * see my record, history, profile, record decisions, export) and the professional workstation's
 * break-glass and CDA preview. Every route authenticates the Carnet bearer token, checks its
 * scopes, and calls one service: the rules live in services and the domain.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../../domain/errors.ts';
import { professionLabel } from '../../domain/access/index.ts';
import type { HolderSettings } from '../../domain/access/types.ts';
import { mintToken } from '../../auth/access-token.ts';
import { setMasked } from '../../services/manageDocuments.ts';
import { recordIdFor } from '../../services/recordStatus.ts';
import { metadataFromCda } from '../../services/internal/cda-metadata.ts';
import { parseCdaHeader } from '../../fhir/cda/header.ts';
import { addOwnDocument, holderDocuments, viewDocument } from '../../services/portal/documents.ts';
import { holderHome, markAlertsSeen } from '../../services/portal/home.ts';
import { changeSettings, changeSharing, sharingView, SHARING_CHANGES, type SharingChange } from '../../services/portal/sharing.ts';
import { holderHistory, type ActorFilter } from '../../services/portal/history.ts';
import { readProfile, saveProfile } from '../../services/portal/profile.ts';
import { decideAboutRecord, type RecordDecision } from '../../services/portal/myRecord.ts';
import { exportRecord } from '../../services/portal/exportRecord.ts';
import { searchDirectory } from '../../services/portal/directory.ts';
import { openBreakGlass, openEmergencyOf } from '../../services/portal/breakGlass.ts';
import { isPerson, toPortalDocument } from '../../services/portal/common.ts';
import { authenticate, requireScope, type Caller } from '../auth.ts';
import type { RouteDeps } from '../app.ts';

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The record the holder's side acts on: the holder's own, or (linked persons) the one they name. */
async function recordOfPerson(deps: RouteDeps, caller: Caller, req: FastifyRequest): Promise<string> {
  const q = req.query as Record<string, unknown>;
  if (caller.actor.kind === 'holder') return caller.actor.id;
  const named = str(q.record);
  if (!isPerson(caller.actor) || !named || !ID_RE.test(named)) {
    throw invalid('PORTAL_RECORD_REQUIRED', 'Say which record (?record=) you act on', { expression: ['record'] });
  }
  return recordIdFor(deps.carnet.ctx, { id: named });
}

const body = (req: FastifyRequest) => {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('BODY_OBJECT_EXPECTED', 'The body must be a JSON object');
  return b as Record<string, unknown>;
};

const base64Bytes = (v: unknown, field: string) => {
  if (typeof v !== 'string' || !v.length || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw invalid('BASE64_INVALID', `${field} must be base64`, { expression: [field] });
  }
  return Buffer.from(v, 'base64');
};

export function registerPortalApi(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  const noStore = { 'cache-control': 'no-store' };

  // --- common -------------------------------------------------------------------------------

  /** Who the token says I am (for the portal's header), and until when. */
  app.get('/api/me', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const a = caller.token.actor;
    const base = { kind: a.kind, name: a.name, mode: caller.mode, expiresAt: caller.token.expiresAt.toISOString(), scopes: caller.token.scopes.map((s) => s.raw) };
    if (a.kind === 'professional') {
      const org = a.organisation ? await ctx.db.selectFrom('organisations').select('name').where('finess', '=', a.organisation).executeTakeFirst() : undefined;
      return reply.headers(noStore).send({
        ...base, rpps: a.rpps, profession: { code: a.professionCode, ...professionLabel(a.professionCode) },
        ...(a.organisation ? { organisation: { finess: a.organisation, name: a.organisationName ?? org?.name } } : {}),
      });
    }
    if (a.kind === 'app') return reply.headers(noStore).send({ ...base, id: a.id, recordId: a.recordId });
    const records = a.kind === 'holder' ? [{ id: a.id, link: 'holder' }]
      : isPerson(caller.actor)
        ? (await ctx.db.selectFrom('record_persons').select(['record_id', 'kind']).where('person_ins', '=', a.id).where('removed_at', 'is', null).execute())
          .map((r) => ({ id: r.record_id, link: r.kind }))
        : [];
    return reply.headers(noStore).send({ ...base, id: a.id, records });
  });

  /** The viewer: a CDA rendered as blocks (never raw XML), or the metadata of a PDF/image to fetch by ITI-68. */
  app.get('/api/documents/:id/view', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'r');
    const { id } = req.params as { id: string };
    if (!ID_RE.test(id)) throw invalid('DOCUMENT_ID_INVALID', 'Not a document id');
    const view = await viewDocument(ctx, caller.actor, id, { mode: caller.mode, justification: caller.justification });
    return reply.headers(noStore).send(view);
  });

  app.get('/api/directory', async (req, reply) => {
    const caller = await authenticate(req, deps);
    return reply.headers(noStore).send({ entries: await searchDirectory(ctx, caller.actor, str((req.query as Record<string, unknown>).q) ?? '') });
  });

  // --- the holder's space ------------------------------------------------------------------

  app.get('/api/holder/home', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 's');
    return reply.headers(noStore).send(await holderHome(ctx, caller.actor, await recordOfPerson(deps, caller, req)));
  });

  app.post('/api/holder/alerts/seen', async (req, reply) => {
    const caller = await authenticate(req, deps);
    return reply.headers(noStore).send(await markAlertsSeen(ctx, caller.actor, await recordOfPerson(deps, caller, req)));
  });

  app.get('/api/holder/documents', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 's');
    return reply.headers(noStore).send({ documents: await holderDocuments(ctx, caller.actor, await recordOfPerson(deps, caller, req)) });
  });

  app.post('/api/holder/documents', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'c');
    const b = body(req);
    const doc = await addOwnDocument(ctx, caller.actor, await recordOfPerson(deps, caller, req), {
      title: str(b.title) ?? '', typeCode: str(b.typeCode) ?? '', date: str(b.date), mimeType: str(b.mimeType) ?? '',
      bytes: base64Bytes(b.contentBase64, 'contentBase64'),
    });
    return reply.code(201).headers(noStore).send(doc);
  });

  /** Mask / unmask (MASQUE_PS) — the same service as TD3.3 PATCH. */
  app.post('/api/holder/documents/:id/mask', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'u');
    const { id } = req.params as { id: string };
    if (!ID_RE.test(id)) throw invalid('DOCUMENT_ID_INVALID', 'Not a document id');
    const masked = body(req).masked;
    if (typeof masked !== 'boolean') throw invalid('MASKED_BOOLEAN', 'masked must be true or false', { expression: ['masked'] });
    return reply.headers(noStore).send(toPortalDocument(await setMasked(ctx, caller.actor, id, masked)));
  });

  app.get('/api/holder/sharing', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 's');
    return reply.headers(noStore).send(await sharingView(ctx, caller.actor, await recordOfPerson(deps, caller, req)));
  });

  app.post('/api/holder/sharing', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 'u');
    const b = body(req);
    const change = str(b.change);
    if (!change || !(SHARING_CHANGES as readonly string[]).includes(change)) throw invalid('SHARING_CHANGE_UNKNOWN', 'Unknown kind of change', { expression: ['change'] });
    if (typeof b.on !== 'boolean') throw invalid('SHARING_ON_BOOLEAN', 'on must be true or false', { expression: ['on'] });
    const recordId = await recordOfPerson(deps, caller, req);
    await changeSharing(ctx, caller.actor, recordId, change as SharingChange, str(b.rpps) ?? '', b.on, { until: str(b.until) });
    return reply.headers(noStore).send(await sharingView(ctx, caller.actor, recordId));
  });

  app.patch('/api/holder/settings', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 'u');
    const settings = await changeSettings(ctx, caller.actor, await recordOfPerson(deps, caller, req), body(req) as Partial<HolderSettings>);
    return reply.headers(noStore).send({ settings });
  });

  app.get('/api/holder/history', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'AuditEvent', 's');
    const q = req.query as Record<string, unknown>;
    const before = Number(q.before);
    const out = await holderHistory(ctx, caller.actor, await recordOfPerson(deps, caller, req), {
      who: (str(q.who) as ActorFilter | undefined) ?? 'all',
      actorId: str(q.actor),
      what: str(q.what),
      mode: str(q.mode),
      ...(Number.isInteger(before) && before > 0 ? { before } : {}),
    });
    return reply.headers(noStore).send(out);
  });

  app.get('/api/holder/profile', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Patient', 'r');
    return reply.headers(noStore).send(await readProfile(ctx, caller.actor, await recordOfPerson(deps, caller, req)));
  });

  app.put('/api/holder/profile', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Patient', 'u');
    return reply.headers(noStore).send(await saveProfile(ctx, caller.actor, await recordOfPerson(deps, caller, req), body(req)));
  });

  /** Close my record, reopen it, or ask for its early deletion once closed. */
  app.post('/api/holder/record', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Patient', 'u');
    const decision = str(body(req).decision);
    if (!decision || !['close', 'reopen', 'request_deletion'].includes(decision)) throw invalid('RECORD_DECISION_UNKNOWN', 'decision must be close, reopen or request_deletion', { expression: ['decision'] });
    const r = await decideAboutRecord(ctx, caller.actor, await recordOfPerson(deps, caller, req), decision as RecordDecision);
    return reply.headers(noStore).send({ recordId: r.recordId, state: r.state });
  });

  /** Download my record: a zip of the FHIR Bundle and the original files. */
  app.get('/api/holder/export', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'r');
    requireScope(caller, 'Patient', 'r');
    const out = await exportRecord(ctx, caller.actor, await recordOfPerson(deps, caller, req), { fhirBase: deps.fhirBase });
    return reply
      .headers(noStore)
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="${out.fileName}"`)
      .send(Buffer.from(out.zip));
  });

  // --- the professional workstation --------------------------------------------------------

  /**
   * Break-glass: opens (or reuses) the professional's emergency session on the record, then issues
   * a token for the same professional and client in mode `bris_de_glace` with the justification —
   * the IHE IUA claims an establishment system would assert. It lives no longer than the caller's
   * own token nor the emergency window.
   */
  app.post('/api/pro/emergency', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'r');
    const a = caller.token.actor;
    if (a.kind !== 'professional') throw invalid('EMERGENCY_PROFESSIONALS_ONLY', 'Only a health professional may open an emergency access');
    const b = body(req);
    const patient = str(b.patient);
    if (!patient || !ID_RE.test(patient)) throw invalid('PATIENT_REQUIRED', 'patient (the Patient id) is required', { expression: ['patient'] });
    const recordId = await recordIdFor(ctx, { id: patient });
    const justification = (str(b.justification) ?? '').trim();
    const session = await openBreakGlass(ctx, caller.actor, recordId, justification);
    const now = ctx.clock().getTime();
    const ttl = Math.floor(Math.min(caller.token.expiresAt.getTime() - now, Date.parse(session.expiresAt) - now) / 1000);
    if (ttl < 1) throw invalid('TOKEN_TOO_OLD', 'Your session ends now: log in again before opening an emergency access');
    const token = await mintToken(
      { ...a, purposeOfUse: 'bris_de_glace', justification: justification.slice(0, 1000) },
      caller.token.scopes,
      deps.signingKey,
      {
        issuer: deps.issuer, audience: deps.fhirBase, clientId: caller.token.clientId, ttlSeconds: ttl, now: ctx.clock,
        // bound to the same login session: logging out (or a revoked session) ends it too
        ...(caller.token.sessionId ? { sessionId: caller.token.sessionId } : {}),
      },
    );
    return reply.code(session.reused ? 200 : 201).headers(noStore).send({ session, token });
  });

  /** The caller's emergency session still open on a patient (for the countdown after a reload). */
  app.get('/api/pro/emergency', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const patient = str((req.query as Record<string, unknown>).patient);
    if (!patient || !ID_RE.test(patient)) throw invalid('PATIENT_REQUIRED', 'patient (the Patient id) is required', { expression: ['patient'] });
    const recordId = await recordIdFor(ctx, { id: patient });
    return reply.headers(noStore).send({ session: (await openEmergencyOf(ctx, caller.actor, recordId)) ?? null });
  });

  /**
   * Reads a CDA's header to prefill the upload form (type, class, title, date, authors, patient):
   * nothing is stored; the document is then sent through ITI-65 like any other.
   */
  app.post('/api/pro/cda-metadata', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'c');
    if (caller.actor.kind !== 'professional') throw invalid('PROFESSIONALS_ONLY', 'For professionals');
    const bytes = base64Bytes(body(req).contentBase64, 'contentBase64');
    const header = parseCdaHeader(bytes);
    const m = metadataFromCda(bytes, header);
    return reply.headers(noStore).send({
      uniqueId: m.uniqueId, type: m.type, category: m.category, title: m.title, creationTime: m.creationTime,
      authors: m.authors, format: m.format, mimeType: m.mimeType, practiceSetting: m.practiceSetting, facilityType: m.facilityType,
      patient: header.patient.ins ? { ins: header.patient.ins.value, oid: header.patient.ins.oid } : undefined,
    });
  });
}
