/**
 * TD0.3 `POST /fhir/Consent`: the calling professional records the holder's consent (optionally
 * until `provision.period.end`). `GET /fhir/Consent?patient=…`: the holder's authorizations,
 * blocks and emergency switches as Consent resources (the holder's side sees all; a professional
 * sees what concerns them).
 */
import type { FastifyInstance } from 'fastify';
import { invalid, notFound } from '../../domain/errors.ts';
import { accessRecordOf, grantConsent, sharingOverview } from '../../services/rights.ts';
import { recordIdFor } from '../../services/recordStatus.ts';
import { authenticate, requireScope } from '../auth.ts';
import { FHIR_JSON } from '../errors.ts';
import { parseInsToken, patientParam } from './patient.ts';
import type { RouteDeps } from '../app.ts';

const ACCESS_KIND_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/access-kind';
const SWITCH_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/holder-switch';
const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';

type AccessEntry = Awaited<ReturnType<typeof sharingOverview>>['access'][number];

/** One right of the holder's (consent, block, care team, médecin traitant …) as a FHIR Consent. */
function toConsent(a: AccessEntry, recordId: string, now: Date): fhir4.Consent {
  return {
    resourceType: 'Consent',
    id: a.id,
    status: a.revokedAt ? 'inactive' : a.expiresAt && Date.parse(a.expiresAt) <= now.getTime() ? 'inactive' : 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: ACCESS_KIND_SYSTEM, code: a.kind }] }],
    patient: { reference: `Patient/${recordId}` },
    dateTime: a.grantedAt,
    provision: {
      type: a.kind === 'block' || a.kind === 'care_team_objection' ? 'deny' : 'permit',
      period: { start: a.grantedAt, ...(a.expiresAt ? { end: a.expiresAt } : {}), ...(a.revokedAt ? { end: a.revokedAt } : {}) },
      actor: [{
        role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
        reference: { identifier: { system: RPPS_SYSTEM, value: `8${a.practitioner}` }, display: a.practitionerName },
      }],
    },
  };
}

export function registerConsent(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;

  app.get('/fhir/Consent/:id', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 'r');
    const { id } = req.params as { id: string };
    const recordId = await accessRecordOf(ctx, id);
    // the same visibility as the search: the holder's side sees every right, a professional their own
    const a = recordId ? (await sharingOverview(ctx, caller.actor, recordId)).access.find((x) => x.id === id) : undefined;
    if (!recordId || !a) throw notFound('CONSENT_UNKNOWN', 'No such Consent');
    return reply.header('content-type', FHIR_JSON).send(toConsent(a, recordId, ctx.clock()));
  });

  app.post('/fhir/Consent', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 'c');
    const c = req.body as fhir4.Consent | undefined;
    if (!c || c.resourceType !== 'Consent') throw invalid('CONSENT_EXPECTED', 'The body must be a Consent resource', { expression: ['Consent'] });
    if (c.status !== 'active') throw invalid('CONSENT_STATUS', 'Consent.status must be active', { expression: ['Consent.status'] });
    const ref = c.patient?.reference ?? '';
    let recordId: string;
    if (ref.startsWith('Patient?identifier=')) recordId = await recordIdFor(ctx, parseInsToken(decodeURIComponent(ref.slice('Patient?identifier='.length)), 'Consent.patient'));
    else if (/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) recordId = await recordIdFor(ctx, { id: ref.slice(8) });
    else if (c.patient?.identifier?.value) recordId = await recordIdFor(ctx, { ins: c.patient.identifier.value, oid: c.patient.identifier.system?.replace(/^urn:oid:/, '') });
    else throw invalid('CONSENT_PATIENT', 'Consent.patient must reference the patient (Patient?identifier=INS or Patient/id)', { expression: ['Consent.patient'] });
    // the consent is for the calling professional unless provision.actor names another (the holder's side only)
    const actorRef = c.provision?.actor?.[0]?.reference?.identifier?.value;
    const rpps = actorRef ? actorRef.replace(/^8(\d{11})$/, '$1') : caller.actor.id;
    const end = c.provision?.period?.end;
    if (end && Number.isNaN(Date.parse(end))) throw invalid('CONSENT_PERIOD', 'provision.period.end is not a date', { expression: ['Consent.provision.period.end'] });
    const { id } = await grantConsent(ctx, caller.actor, recordId, rpps, end);
    const created: fhir4.Consent = {
      ...c,
      id,
      meta: { lastUpdated: ctx.clock().toISOString() },
    };
    return reply.code(201).header('location', `${deps.fhirBase}/Consent/${created.id}`).header('content-type', FHIR_JSON).send(created);
  });

  app.get('/fhir/Consent', async (req, reply) => {
    const caller = await authenticate(req, deps);
    requireScope(caller, 'Consent', 's');
    const recordId = await patientParam(deps, req.query as Record<string, unknown>);
    const overview = await sharingOverview(ctx, caller.actor, recordId);
    const resources: fhir4.Consent[] = overview.access.map((a) => toConsent(a, recordId, ctx.clock()));
    if (overview.settings) {
      const s = overview.settings;
      for (const [code, on] of [['samu_allowed', s.samuAllowed], ['break_glass_allowed', s.breakGlassAllowed], ['masked_in_emergency', s.maskedInEmergency], ['mask_new_by_default', s.maskNewByDefault]] as const) {
        resources.push({
          resourceType: 'Consent', id: `${recordId}-${code}`, status: 'active',
          scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
          category: [{ coding: [{ system: SWITCH_SYSTEM, code }] }],
          patient: { reference: `Patient/${recordId}` },
          provision: { type: on ? 'permit' : 'deny' },
        });
      }
    }
    return reply.header('content-type', FHIR_JSON).send({
      resourceType: 'Bundle', type: 'searchset', total: resources.length,
      entry: resources.map((r) => ({ fullUrl: `${deps.fhirBase}/Consent/${r.id}`, resource: r, search: { mode: 'match' } })),
    });
  });
}
