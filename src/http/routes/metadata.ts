/** A truthful CapabilityStatement: only what the routes really do. */
import type { FastifyInstance } from 'fastify';
import { FHIR_JSON } from '../errors.ts';
import type { RouteDeps } from '../app.ts';
import { DOCUMENT_SEARCH_PARAMS, LIST_SEARCH_PARAMS } from './documents.ts';

export function capabilityStatement(deps: RouteDeps): fhir4.CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'Carnet', version: '0.1.0' },
    implementation: { description: 'Carnet — patient-controlled shared health record', url: deps.fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    implementationGuide: [
      'https://profiles.ihe.net/ITI/MHD/ImplementationGuide/ihe.iti.mhd',
      'https://interop.esante.gouv.fr/ig/fhir/pdsm',
    ],
    instantiates: [
      'https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient',
      'https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentResponder',
    ],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          description: 'SMART Backend Services (client_credentials + private_key_jwt, RS384/ES384) with the acting professional in an IHE IUA ihe_iua claim.',
        },
        interaction: [{ code: 'transaction', documentation: 'IHE MHD ITI-65 Provide Document Bundle (PDSm TD2 / TD2.1)' }],
        resource: [
          {
            type: 'Patient',
            interaction: [{ code: 'search-type', documentation: 'PDSm TD0.2: record existence, state and the caller’s authorization status' }],
            searchParam: [{ name: 'identifier', type: 'token', documentation: 'INS: urn:oid:1.2.250.1.213.1.4.8|NIR (also .9 NIA, .10 test, .11 demo)' }],
          },
          {
            type: 'DocumentReference',
            interaction: [{ code: 'read' }, { code: 'search-type', documentation: 'IHE MHD ITI-67 (PDSm TD3.1)' }, { code: 'patch', documentation: 'PDSm TD3.3: MASQUE_PS, INVISIBLE_PATIENT, entered-in-error, archive' }],
            searchParam: DOCUMENT_SEARCH_PARAMS.map(([name, type]) => ({ name, type })),
          },
          { type: 'Binary', interaction: [{ code: 'read', documentation: 'IHE MHD ITI-68 (PDSm TD3.2): original bytes and MIME type' }] },
          {
            type: 'List',
            interaction: [{ code: 'search-type', documentation: 'IHE MHD ITI-66 submission sets' }],
            searchParam: LIST_SEARCH_PARAMS.map(([name, type]) => ({ name, type })),
          },
          {
            type: 'Consent',
            interaction: [{ code: 'create', documentation: 'PDSm TD0.3: the holder’s consent for the calling professional' }, { code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: 'patient', type: 'reference' }, { name: 'patient.identifier', type: 'token' }],
          },
          {
            type: 'AuditEvent',
            interaction: [{ code: 'search-type', documentation: 'Access history in IHE BALP shapes, filtered by who may read it' }],
            searchParam: [{ name: 'patient', type: 'reference' }, { name: 'patient.identifier', type: 'token' }],
          },
        ],
      },
    ],
  };
}

export function registerMetadata(app: FastifyInstance, deps: RouteDeps) {
  const cs = capabilityStatement(deps);
  app.get('/fhir/metadata', async (_req, reply) => reply.header('content-type', FHIR_JSON).send(cs));
}
