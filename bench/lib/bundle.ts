/**
 * ITI-65 Provide Document Bundles as a document source sends them (PDSm4DMP comprehensive: List +
 * DocumentReference + Binary), built from the metadata of the CDA they carry. The JSON is assembled
 * around the base64 content so each request costs the load generator a few string joins, not a
 * re-encoding of 30 KB.
 */
import type { DocumentMetadata } from '../../src/domain/document.ts';
import { TEST_INS_OID } from './ids.ts';

const CLASS_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
const MARK = '\u0001BENCH-DATA\u0001';

export interface BundleIds {
  /** Unique per request: uniqueIds and fullUrls derive from it. */
  n: number;
  run: number;
}

/** The Bundle JSON split around the Binary's data: `before + base64 + after`. */
export function provideBundleParts(meta: DocumentMetadata, ins: string, authorRpps: string, size: number, ids: BundleIds): [string, string] {
  const u = (k: number) => `urn:uuid:${ids.run.toString(16).padStart(8, '0')}-${(ids.n >>> 16).toString(16).padStart(4, '0')}-4${(ids.n & 0xfff).toString(16).padStart(3, '0')}-8${k}00-${ids.n.toString(16).padStart(12, '0')}`;
  const patientRef = { reference: `Patient?identifier=urn:oid:${TEST_INS_OID}|${ins}` };
  const contained = [
    { resourceType: 'Patient', id: 'patient-source', identifier: [{ system: `urn:oid:${TEST_INS_OID}`, value: ins }] },
    { resourceType: 'Practitioner', id: 'author', identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: `8${authorRpps}` }] },
  ];
  const when = new Date().toISOString();
  const category = { system: meta.category.system ?? CLASS_SYSTEM, code: meta.category.code, ...(meta.category.display ? { display: meta.category.display } : {}) };
  const bundle = {
    resourceType: 'Bundle',
    meta: { profile: ['https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-provide-document-bundle'] },
    type: 'transaction',
    entry: [
      {
        fullUrl: u(1),
        resource: {
          resourceType: 'List',
          meta: { profile: ['https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-submissionset-comprehensive'] },
          contained,
          extension: [
            { url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType', valueCodeableConcept: { coding: [category] } },
            { url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId', valueIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:oid:1.2.250.1.999.${ids.run}` } },
            { url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourcePatientId', valueReference: { reference: '#patient-source' } },
          ],
          identifier: [{ use: 'usual', system: 'urn:ietf:rfc:3986', value: `urn:oid:1.2.250.1.999.${ids.run}.2.${ids.n}` }],
          status: 'current',
          mode: 'working',
          code: { coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }] },
          subject: patientRef,
          date: when,
          source: { reference: '#author' },
          entry: [{ item: { reference: u(2) } }],
        },
        request: { method: 'POST', url: 'List' },
      },
      {
        fullUrl: u(2),
        resource: {
          resourceType: 'DocumentReference',
          meta: { profile: ['https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-document-reference'] },
          contained,
          masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:oid:1.2.250.1.999.${ids.run}.1.${ids.n}` },
          status: 'current',
          type: { coding: [{ system: meta.type.system, code: meta.type.code, ...(meta.type.display ? { display: meta.type.display } : {}) }] },
          category: [{ coding: [category] }],
          subject: patientRef,
          date: when,
          author: [{ reference: '#author' }],
          securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N', display: 'normal' }] }],
          content: [
            {
              attachment: { contentType: meta.mimeType, language: meta.language ?? 'fr-FR', url: u(3), size, ...(meta.title ? { title: meta.title } : {}), creation: when },
              format: meta.format
                ? { system: meta.format.system, code: meta.format.code }
                : { system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient' },
            },
          ],
          context: {
            period: { start: meta.servicePeriod?.start ?? when },
            sourcePatientInfo: { reference: '#patient-source' },
            facilityType: { coding: [meta.facilityType ? { system: meta.facilityType.system, code: meta.facilityType.code } : { system: 'http://snomed.info/sct', code: '22232009', display: 'Hospital' }] },
            practiceSetting: { coding: [meta.practiceSetting ? { system: meta.practiceSetting.system, code: meta.practiceSetting.code } : { system: 'http://snomed.info/sct', code: '394802001', display: 'General medicine' }] },
          },
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      { fullUrl: u(3), resource: { resourceType: 'Binary', contentType: meta.mimeType, data: MARK }, request: { method: 'POST', url: 'Binary' } },
    ],
  };
  const json = JSON.stringify(bundle);
  const at = json.indexOf(JSON.stringify(MARK).slice(1, -1));
  return [json.slice(0, at), json.slice(at + JSON.stringify(MARK).length - 2)];
}
