/**
 * IHE MHD over HTTP, as PDSm4DMP maps the DMP transactions: ITI-65 (TD2/TD2.1) `POST /fhir`,
 * ITI-67 (TD3.1) DocumentReference search, ITI-66 List search, ITI-68 (TD3.2) Binary read, and
 * TD3.3 `PATCH DocumentReference/{id}`. Thin: parse, call a service, map to FHIR.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastJsonPatch from 'fast-json-patch';
import { CarnetError, invalid } from '../../domain/errors.ts';
import { flagsOf, type StoredDocument } from '../../domain/document.ts';
import type { Actor } from '../../domain/access/types.ts';
import { parseProvideBundle } from '../../fhir/mhd/iti65.ts';
import { parseDocumentQuery, parseListQuery, matchesDocumentQuery, matchesListQuery, compareDocuments, searchLinks } from '../../fhir/mhd/iti67.ts';
import { toDocumentReference, toSearchsetBundle, toSubmissionSetList } from '../../fhir/mhd/docref.ts';
import { PDSM_IS_ARCHIVED_EXT } from '../../fhir/mhd/constants.ts';
import type { PatientLink } from '../../fhir/mhd/references.ts';
import { fileDocuments } from '../../services/fileDocuments.ts';
import { listDocumentsWithPatient, listSubmissionSets, readDocument, readDocumentMetadata } from '../../services/readDocuments.ts';
import { deleteDocument, updateDocument, type DocumentChanges } from '../../services/manageDocuments.ts';
import { ensureEmergencySession } from '../../services/emergency.ts';
import { recordIdFor } from '../../services/recordStatus.ts';
import { recordById } from '../../services/internal/repo.ts';
import { authenticate, requireScope, type Caller } from '../auth.ts';
import { FHIR_JSON } from '../errors.ts';
import { operationOutcome, type IssueInput } from '../../fhir/operation-outcome.ts';
import type { RouteDeps } from '../app.ts';

/** ITI-67 parameters served (fhir/mhd/iti67.ts parses them), with their FHIR search types, for the CapabilityStatement. */
export const DOCUMENT_SEARCH_PARAMS: ReadonlyArray<[name: string, type: fhir4.CapabilityStatementRestResourceSearchParam['type']]> = [
  ['patient', 'reference'], ['patient.identifier', 'token'], ['status', 'token'], ['type', 'token'], ['category', 'token'],
  ['date', 'date'], ['author.given', 'string'], ['author.family', 'string'], ['author.identifier', 'token'], ['security-label', 'token'],
  ['setting', 'token'], ['facility', 'token'], ['event', 'token'], ['period', 'date'], ['format', 'token'], ['identifier', 'token'],
  ['related', 'reference'], ['relatesto', 'reference'], ['creation', 'date'], ['contenttype', 'token'], ['language', 'token'],
  ['isArchived', 'token'], ['_id', 'token'], ['_count', 'number'], ['_offset', 'number'], ['_sort', 'special'],
];
/** ITI-66 parameters served (fhir/mhd/iti66.ts). */
export const LIST_SEARCH_PARAMS: ReadonlyArray<[name: string, type: fhir4.CapabilityStatementRestResourceSearchParam['type']]> = [
  ['patient', 'reference'], ['patient.identifier', 'token'], ['code', 'token'], ['status', 'token'], ['date', 'date'],
  ['identifier', 'token'], ['designationType', 'token'], ['sourceId', 'token'], ['source.given', 'string'], ['source.family', 'string'],
  ['_count', 'number'], ['_offset', 'number'],
];

async function recordOf(deps: RouteDeps, link: PatientLink | undefined): Promise<string> {
  if (!link) throw invalid('SEARCH_PATIENT_REQUIRED', 'A patient or patient.identifier parameter is required', { expression: ['patient'] });
  if (link.kind === 'id') return recordIdFor(deps.carnet.ctx, { id: link.id });
  return recordIdFor(deps.carnet.ctx, insRefOf(link));
}

/** The INS (and its OID, when the system names one) of a `patient.identifier` link. */
const insRefOf = (link: Extract<PatientLink, { kind: 'identifier' }>) => ({ ins: link.value, oid: link.system.replace(/^urn:oid:/, '') || undefined });

/** An emergency token opens its session on the record before the first read (notifications included). */
async function emergencyFor(deps: RouteDeps, caller: Caller, recordId: string) {
  await ensureEmergencySession(deps.carnet.ctx, caller.actor, recordId, caller.mode, caller.justification);
}

/** The same, for a request naming a document: the session opens on the document's record (if it exists). */
async function emergencyForDocument(deps: RouteDeps, caller: Caller, documentId: string) {
  if (caller.mode === 'normal') return;
  const row = await deps.carnet.ctx.db.selectFrom('documents').select('record_id').where('id', '=', documentId).executeTakeFirst();
  if (row) await emergencyFor(deps, caller, row.record_id);
}

async function patientContext(deps: RouteDeps, recordId: string) {
  const r = await recordById(deps.carnet.ctx, recordId);
  return { ins: r.ins, oid: r.ins_oid };
}

const preferHandling = (req: FastifyRequest) => (/handling=strict/.test(String(req.headers.prefer ?? '')) ? 'strict' : 'lenient') as 'strict' | 'lenient';

async function searchDocuments(deps: RouteDeps, req: FastifyRequest, reply: FastifyReply, params: Record<string, string | string[] | undefined>) {
  const caller = await authenticate(req, deps);
  requireScope(caller, 'DocumentReference', 's');
  const q = parseDocumentQuery(params, { handling: preferHandling(req) });
  // by INS in normal mode, the record is found by the listing's own query (one round trip less);
  // an emergency access first opens its session on the record, so it needs the record's id first
  const link = q.patient;
  const recordRef = link?.kind === 'identifier' && caller.mode === 'normal' ? insRefOf(link) : await recordOf(deps, link);
  if (typeof recordRef === 'string') await emergencyFor(deps, caller, recordRef);
  const explicitPeriod = q.date.length > 0 || q.creation.length > 0 || q.period.length > 0;
  const { documents: listed, patient } = await listDocumentsWithPatient(deps.carnet.ctx, caller.actor, recordRef, {
    statuses: q.status.length ? ['current', 'superseded', 'entered-in-error'] : ['current', 'superseded'],
    includeArchived: q.archived !== undefined,
    noDefaultPeriod: explicitPeriod,
    mode: caller.mode,
    where: (d) => matchesDocumentQuery(d, q),
  });
  const docs = listed.map((l) => l.document).sort(compareDocuments(q));
  const page = docs.slice(q.offset, q.offset + q.count);
  const links = searchLinks(`${deps.fhirBase}/DocumentReference`, q, docs.length);
  const bundle = toSearchsetBundle(
    page.map((d) => toDocumentReference(d, { baseUrl: deps.fhirBase, patient, id: d.id })),
    { ...links, total: docs.length, baseUrl: deps.fhirBase },
  );
  return reply.header('content-type', FHIR_JSON).send(bundle);
}

export function registerDocuments(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;

  // ITI-65 Provide Document Bundle
  app.post('/fhir', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'c');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || body.resourceType !== 'Bundle') {
      throw invalid('BUNDLE_EXPECTED', 'POST /fhir takes a transaction Bundle', { expression: ['Bundle'] });
    }
    const submission = parseProvideBundle(body);
    const link = submission.patient;
    const patient: { recordId: string } | { ins: string; oid?: string } = link.kind === 'id'
      ? { recordId: await recordIdFor(ctx, { id: link.id }) }
      : { ins: link.value, oid: link.system.replace(/^urn:oid:/, '') || undefined };
    if (caller.mode !== 'normal') {
      await emergencyFor(deps, caller, 'recordId' in patient ? patient.recordId : await recordIdFor(ctx, patient));
    }
    const ss = submission.submissionSet;
    const result = await fileDocuments(ctx, caller.actor, {
      patient,
      transaction: 'ITI-65',
      mode: caller.mode,
      submissionSet: { uniqueId: ss.uniqueId, entryUuid: ss.entryUuid, sourceId: ss.sourceId, submissionTime: ss.submissionTime, title: ss.title },
      documents: submission.documents.map((d) => ({
        metadata: d.metadata,
        bytes: d.bytes,
        replaces: d.replaces ? { id: d.replaces.id?.replace(/^DocumentReference\//, ''), uniqueId: d.replaces.identifier } : undefined,
      })),
    });
    // transaction-response: one entry per request entry, in order (FHIR transaction rules)
    const entries = (body.entry as Array<Record<string, any>>) ?? [];
    const docByFullUrl = new Map(submission.documents.map((d, i) => [d.fullUrl, result.documents[i]]));
    const docByBinaryUrl = new Map<string, StoredDocument>();
    for (const e of entries) {
      if (e?.resource?.resourceType === 'DocumentReference') {
        const filed = docByFullUrl.get(e.fullUrl);
        const url = e.resource?.content?.[0]?.attachment?.url;
        if (filed && typeof url === 'string') docByBinaryUrl.set(url, filed);
      }
    }
    const now = ctx.clock().toISOString();
    // what Carnet accepted while the sender should have done otherwise (ITI-65 robustness): said per entry
    const warningsAt = new Map<number, IssueInput[]>();
    for (const w of submission.warnings) {
      const m = /^Bundle\.entry\[(\d+)\]/.exec(w.expression[0] ?? '');
      const at = m && Number(m[1]) < entries.length ? Number(m[1]) : 0;
      warningsAt.set(at, [...(warningsAt.get(at) ?? []), { severity: 'warning', code: 'informational', diagnostics: w.message, expression: w.expression, details: { code: w.code } }]);
    }
    const response: fhir4.Bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: entries.map((e, i) => {
        const type = e?.resource?.resourceType;
        let location: string | undefined;
        if (type === 'List') location = `List/${result.submissionSetId}`;
        else if (type === 'DocumentReference') location = docByFullUrl.get(e.fullUrl) ? `DocumentReference/${docByFullUrl.get(e.fullUrl)!.id}` : undefined;
        else if (type === 'Binary') location = docByBinaryUrl.get(e.fullUrl) ? `Binary/${docByBinaryUrl.get(e.fullUrl)!.id}` : undefined;
        const warnings = warningsAt.get(i);
        return {
          response: {
            status: location ? '201 Created' : '200 OK', ...(location ? { location } : {}), lastModified: now,
            ...(warnings ? { outcome: operationOutcome(warnings) } : {}),
          },
        };
      }),
    };
    return reply.code(200).header('content-type', FHIR_JSON).send(response);
  });

  // ITI-67 Find Document References
  app.get('/fhir/DocumentReference', async (req, reply) => searchDocuments(deps, req, reply, req.query as Record<string, string | string[]>));
  app.post('/fhir/DocumentReference/_search', async (req, reply) => {
    const form = typeof req.body === 'object' && req.body ? (req.body as Record<string, string>) : {};
    return searchDocuments(deps, req, reply, { ...(req.query as Record<string, string>), ...form });
  });

  app.get('/fhir/DocumentReference/:id', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'r');
    const { id } = req.params as { id: string };
    await emergencyForDocument(deps, caller, id);
    const { document, patient } = await readDocumentMetadata(ctx, caller.actor, id, { mode: caller.mode });
    return reply.header('content-type', FHIR_JSON).send(toDocumentReference(document, { baseUrl: deps.fhirBase, patient, id: document.id }));
  });

  // ITI-68 Retrieve Document: the original bytes and MIME type
  app.get('/fhir/Binary/:id', async (req, reply) => {
    const caller = await authenticate(req, deps);
    try {
      requireScope(caller, 'Binary', 'r');
    } catch {
      requireScope(caller, 'DocumentReference', 'r');
    }
    const { id } = req.params as { id: string };
    await emergencyForDocument(deps, caller, id);
    const { document, bytes } = await readDocument(ctx, caller.actor, id, { mode: caller.mode });
    if (/^application\/fhir\+json/.test(String(req.headers.accept ?? ''))) {
      return reply.header('content-type', FHIR_JSON).send({ resourceType: 'Binary', id: document.id, contentType: document.mimeType, data: bytes.toString('base64') });
    }
    return reply
      .header('content-type', document.mimeType)
      .header('content-disposition', 'inline')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  });

  // ITI-66 Find Document Lists (submission sets)
  app.get('/fhir/List', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'List', 's');
    const q = parseListQuery(req.query as Record<string, string>, { handling: preferHandling(req) });
    const recordId = await recordOf(deps, q.patient);
    const sets = await listSubmissionSets(ctx, caller.actor, recordId, { mode: caller.mode });
    const patient = await patientContext(deps, recordId);
    const views = sets
      .map((s) => ({ id: s.id, uniqueId: s.uniqueId, entryUuid: s.entryUuid, sourceId: s.sourceId, submissionTime: s.submittedAt, title: s.title, authors: s.authors, documentIds: s.documentIds }))
      .filter((v) => matchesListQuery(v, q));
    const page = views.slice(q.offset, q.offset + q.count);
    const links = searchLinks(`${deps.fhirBase}/List`, q, views.length);
    const lists = page.map((v) => toSubmissionSetList(v, { baseUrl: deps.fhirBase, patient, id: v.id }));
    return reply.header('content-type', FHIR_JSON).send(toSearchsetBundle(lists, { ...links, total: views.length, baseUrl: deps.fhirBase }));
  });

  // TD3.3 PATCH: MASQUE_PS / INVISIBLE_PATIENT / INVISIBLE_REPRESENTANTS_LEGAUX, entered-in-error, archive
  app.patch('/fhir/DocumentReference/:id', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'DocumentReference', 'u');
    const { id } = req.params as { id: string };
    const ops = req.body;
    if (!Array.isArray(ops) || !ops.length) throw invalid('PATCH_INVALID', 'The body must be a non-empty JSON Patch array');
    const { document, patient } = await readDocumentMetadata(ctx, caller.actor, id, { mode: caller.mode });
    const before = toDocumentReference(document, { baseUrl: deps.fhirBase, patient, id: document.id });
    const validation = fastJsonPatch.validate(ops as fastJsonPatch.Operation[], before);
    if (validation) throw invalid('PATCH_INVALID', `Invalid JSON Patch: ${validation.name}`, { details: { index: validation.index } });
    let after: fhir4.DocumentReference;
    try {
      after = fastJsonPatch.applyPatch(structuredClone(before), ops as fastJsonPatch.Operation[], true, false).newDocument;
    } catch (e) {
      throw invalid('PATCH_FAILED', `The patch does not apply: ${(e as Error).name}`);
    }
    const updated = await applyDocumentChanges(deps, caller.actor, document, before, after);
    return reply.header('content-type', FHIR_JSON).send(toDocumentReference(updated, { baseUrl: deps.fhirBase, patient, id: updated.id }));
  });
}

const flagSet = (dr: fhir4.DocumentReference) =>
  new Set(flagsOf((dr.securityLabel ?? []).flatMap((c) => c.coding ?? []).map((c) => ({ code: c.code ?? '' }))));
const archivedOf = (dr: fhir4.DocumentReference) => dr.extension?.find((e) => e.url === PDSM_IS_ARCHIVED_EXT)?.valueBoolean === true;

/** Turns the difference between two representations into the services' changes; anything else is refused. */
async function applyDocumentChanges(
  deps: RouteDeps,
  actor: Actor,
  doc: StoredDocument,
  before: fhir4.DocumentReference,
  after: fhir4.DocumentReference,
): Promise<StoredDocument> {
  const { ctx } = deps.carnet;
  const strip = (dr: fhir4.DocumentReference) => {
    const { securityLabel: _s, status: _st, extension, ...rest } = dr;
    return JSON.stringify({ ...rest, extension: (extension ?? []).filter((e) => e.url !== PDSM_IS_ARCHIVED_EXT) });
  };
  if (strip(before) !== strip(after)) {
    throw new CarnetError('PATCH_UNSUPPORTED_CHANGE', 'invalid', 'Only securityLabel (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX), status entered-in-error and the archive flag may be patched');
  }
  const fb = flagSet(before);
  const fa = flagSet(after);
  const confBefore = (before.securityLabel ?? []).flatMap((c) => c.coding ?? []).filter((c) => !fb.has(c.code as never)).map((c) => c.code).sort().join();
  const confAfter = (after.securityLabel ?? []).flatMap((c) => c.coding ?? []).filter((c) => !fa.has(c.code as never)).map((c) => c.code).sort().join();
  if (confBefore !== confAfter) throw new CarnetError('PATCH_UNSUPPORTED_CHANGE', 'invalid', 'The confidentiality code cannot be patched');
  const flagChange = (flag: 'MASQUE_PS' | 'INVISIBLE_PATIENT' | 'INVISIBLE_REPRESENTANTS_LEGAUX') => (fb.has(flag) === fa.has(flag) ? undefined : fa.has(flag));
  const changes: DocumentChanges = {
    masked: flagChange('MASQUE_PS'),
    invisibleToPatient: flagChange('INVISIBLE_PATIENT'),
    hiddenFromRepresentatives: flagChange('INVISIBLE_REPRESENTANTS_LEGAUX'),
    archived: archivedOf(after) !== archivedOf(before) ? archivedOf(after) : undefined,
  };
  if (after.status !== before.status) {
    if (after.status !== 'entered-in-error') throw new CarnetError('PATCH_UNSUPPORTED_CHANGE', 'invalid', 'status may only become entered-in-error');
    // a deletion is patched alone: nothing else would survive it anyway, and nothing must be dropped silently
    if (Object.values(changes).some((v) => v !== undefined)) {
      throw new CarnetError('PATCH_UNSUPPORTED_CHANGE', 'invalid', 'entered-in-error is patched alone, without other changes');
    }
    return deleteDocument(ctx, actor, doc.id);
  }
  // all the changes, or none (services/manageDocuments.ts)
  return updateDocument(ctx, actor, doc.id, changes);
}
