/** TD0.2 — `GET /fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|NIR`. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../../domain/errors.ts';
import { INS_OIDS } from '../../domain/ins.ts';
import { recordIdFor, recordStatus, type RecordStatus } from '../../services/recordStatus.ts';
import { authenticate, requireScope } from '../auth.ts';
import { FHIR_JSON } from '../errors.ts';
import type { RouteDeps } from '../app.ts';

export const EXT = {
  recordState: 'https://carnet.example.org/fhir/StructureDefinition/record-state',
  authorizationStatus: 'https://carnet.example.org/fhir/StructureDefinition/authorization-status',
  medecinTraitant: 'https://carnet.example.org/fhir/StructureDefinition/caller-is-medecin-traitant',
};

const INS_SYSTEMS = new Set(Object.values(INS_OIDS).map((o) => `urn:oid:${o}`));

/** `system|value` of an INS token parameter. */
export function parseInsToken(raw: unknown, param: string): { ins: string; oid?: string } {
  if (typeof raw !== 'string' || !raw.includes('|')) {
    throw invalid('SEARCH_BAD_VALUE', `${param} must be system|value with an INS system`, { expression: [param] });
  }
  const [system, value] = raw.split('|', 2);
  if (system && !INS_SYSTEMS.has(system)) {
    throw invalid('SEARCH_BAD_VALUE', `${param}: unknown identifier system (expected an INS OID)`, { expression: [param] });
  }
  return { ins: value, oid: system ? system.slice('urn:oid:'.length) : undefined };
}

/** Resolves `patient` / `patient.identifier` / `subject` search parameters to a record id. */
export async function patientParam(deps: RouteDeps, q: Record<string, unknown>): Promise<string> {
  const ident = q['patient.identifier'] ?? q['subject.identifier'];
  if (ident !== undefined) return recordIdFor(deps.carnet.ctx, parseInsToken(Array.isArray(ident) ? ident[0] : ident, 'patient.identifier'));
  const p = q.patient ?? q.subject;
  if (typeof p === 'string' && p.length) {
    const id = p.replace(/^.*Patient\//, '');
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw invalid('SEARCH_BAD_VALUE', 'patient must be a Patient id or reference', { expression: ['patient'] });
    return recordIdFor(deps.carnet.ctx, { id });
  }
  throw invalid('SEARCH_PATIENT_REQUIRED', 'A patient or patient.identifier parameter is required', { expression: ['patient'] });
}

export function toPatient(s: RecordStatus): fhir4.Patient {
  const d = s.demographics;
  return {
    resourceType: 'Patient',
    id: s.recordId,
    meta: { profile: ['https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient'] },
    identifier: [{ use: 'official', system: `urn:oid:${s.insOid}`, value: s.ins }],
    extension: [
      { url: EXT.recordState, valueCode: s.state },
      { url: EXT.authorizationStatus, valueCode: s.authorization },
      { url: EXT.medecinTraitant, valueBoolean: s.medecinTraitant },
    ],
    active: s.state === 'active',
    ...(d
      ? {
          name: [{ use: 'official', family: d.birthName, given: d.firstNames }],
          gender: d.sex === 'M' ? 'male' : d.sex === 'F' ? 'female' : 'unknown',
          birthDate: d.birthDate,
        }
      : {}),
  } as fhir4.Patient;
}

export function registerPatient(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  app.get('/fhir/Patient', async (req: FastifyRequest, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Patient', 's');
    const q = req.query as Record<string, unknown>;
    const { ins, oid } = parseInsToken(q.identifier, 'identifier');
    const status = await recordStatus(ctx, caller.actor, ins, oid);
    const bundle: fhir4.Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: status ? 1 : 0,
      link: [{ relation: 'self', url: `${deps.fhirBase}/Patient?identifier=${encodeURIComponent(String(q.identifier))}` }],
      entry: status ? [{ fullUrl: `${deps.fhirBase}/Patient/${status.recordId}`, resource: toPatient(status), search: { mode: 'match' } }] : [],
    };
    return reply.header('content-type', FHIR_JSON).send(bundle);
  });
}
