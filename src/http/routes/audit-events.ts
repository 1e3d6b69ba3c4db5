/**
 * `GET /fhir/AuditEvent?patient=…`: the access history in IHE BALP shapes (Basic Audit Log
 * Patterns), filtered by who may read it (the holder's side, médecin traitant, administrateurs:
 * all; anyone else: their own actions).
 */
import type { FastifyInstance } from 'fastify';
import { accessHistory, type HistoryEntry } from '../../services/accessHistory.ts';
import { authenticate, requireScope } from '../auth.ts';
import { FHIR_JSON } from '../errors.ts';
import { patientParam } from './patient.ts';
import type { RouteDeps } from '../app.ts';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP_READ = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead';
const BALP_QUERY = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientQuery';
const BALP_CREATE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientCreate';
const BALP_UPDATE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientUpdate';
const ACTION_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/audit-action';
const REASON_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/access-reason';
const MODE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces';

function shape(action: string): { profile: string; code: 'C' | 'R' | 'U' | 'D' | 'E'; type: fhir4.Coding } {
  if (action === 'document.list' || action === 'history.read' || action === 'record.exists') {
    return { profile: BALP_QUERY, code: 'E', type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' } };
  }
  if (action.startsWith('document.read')) return { profile: BALP_READ, code: 'R', type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' } };
  if (action === 'document.file' || action === 'document.replace' || action === 'record.create') {
    return { profile: BALP_CREATE, code: 'C', type: { system: DCM, code: '110106', display: 'Export' } };
  }
  return { profile: BALP_UPDATE, code: 'U', type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' } };
}

export function toAuditEvent(e: HistoryEntry, recordId: string, fhirBase: string): fhir4.AuditEvent {
  const s = shape(e.action);
  return {
    resourceType: 'AuditEvent',
    id: String(e.seq),
    meta: { profile: [s.profile] },
    type: s.type,
    subtype: [{ system: ACTION_SYSTEM, code: e.action }],
    action: s.code,
    recorded: e.at,
    outcome: e.outcome === 'deny' || e.outcome === 'failure' ? '4' : '0',
    ...(e.reason ? { outcomeDesc: e.reason } : {}),
    purposeOfEvent: [{ coding: [{ system: MODE_SYSTEM, code: e.mode }] }, ...(e.reason ? [{ coding: [{ system: REASON_SYSTEM, code: e.reason }] }] : [])],
    agent: [{
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: e.actor.kind === 'professional'
        ? { identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: `8${e.actor.id}` }, display: e.actor.name }
        : { identifier: { system: `https://carnet.example.org/fhir/actor/${e.actor.kind}`, value: e.actor.id }, ...(e.actor.name ? { display: e.actor.name } : {}) },
      requestor: true,
    }],
    source: { observer: { display: 'Carnet' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4' }] },
    entity: [
      { what: { reference: `Patient/${recordId}` }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1' } },
      ...(e.documentId ? [{ what: { reference: `DocumentReference/${e.documentId}` }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' } }] : []),
    ],
  } as fhir4.AuditEvent;
}

export function registerAuditEvents(app: FastifyInstance, deps: RouteDeps) {
  app.get('/fhir/AuditEvent', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'AuditEvent', 's');
    const q = req.query as Record<string, unknown>;
    const recordId = await patientParam(deps, q);
    const count = Math.min(Math.max(Number(q._count ?? 100) || 100, 1), 1000);
    const entries = await accessHistory(deps.carnet.ctx, caller.actor, recordId, { limit: count });
    return reply.header('content-type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'searchset', total: entries.length,
      entry: entries.map((e) => ({ fullUrl: `${deps.fhirBase}/AuditEvent/${e.seq}`, resource: toAuditEvent(e, recordId, deps.fhirBase), search: { mode: 'match' } })),
    });
  });
}
