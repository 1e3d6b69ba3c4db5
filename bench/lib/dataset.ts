/**
 * The benchmark population, prepared through Carnet's real paths (the services, in process, before
 * the server starts): organisations, practitioners, records opened and activated, a médecin
 * traitant per record, and documents filed with `fileDocuments` exactly as ITI-65 files them
 * (validation, CDA/metadata agreement, sealing, audit, notifications).
 */
import type { Ctx } from '../../src/services/context.ts';
import type { Actor } from '../../src/domain/access/types.ts';
import { addOrganisation } from '../../src/services/addOrganisation.ts';
import { addPractitioner } from '../../src/services/addPractitioner.ts';
import { addPatient } from '../../src/services/addPatient.ts';
import { setMedecinTraitant } from '../../src/services/rights.ts';
import { fileDocuments } from '../../src/services/fileDocuments.ts';
import { rng, syntheticFiness, syntheticIns, syntheticRpps, TEST_INS_OID } from './ids.ts';
import { documentBytes, metadataFor, personalise, tagOf, type CdaTemplate } from './cda.ts';

export interface Practitioner {
  rpps: string;
  family: string;
  given: string;
  professionCode: string;
  specialty?: string;
  finess: string;
  role: 'consult' | 'lab' | 'imaging' | 'pharmacy' | 'physician';
}

export interface BenchRecord {
  id: string;
  ins: string;
  /** RPPS of the record's médecin traitant (one of the consulting physicians). */
  mt: string;
  docIds: string[];
}

export interface Population {
  organisations: string[];
  practitioners: Practitioner[];
  records: BenchRecord[];
  stats: { documents: number; bytes: number; byClass: Record<string, number>; byTemplate: Record<string, number>; prepareSeconds: number };
}

export interface PopulationOptions {
  records: number;
  docsPerRecord: number;
  consultPhysicians: number;
  seed: number;
  /** First synthetic INS number (populations built in one store must not overlap). */
  insOffset?: number;
  progress?: (done: number, total: number) => void;
}

const GIVEN = ['Claire', 'Paul', 'Sophie', 'Julien', 'Nadia', 'Karim', 'Emma', 'Louis', 'Léa', 'Hugo', 'Inès', 'Tom'];
const FAMILY = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent'];

/** Who authors a template: labs write lab reports, radiologists imaging, pharmacists dispensations. */
export function authorRole(t: Pick<CdaTemplate, 'file'>): Practitioner['role'] {
  if (/^BIO-/.test(t.file)) return 'lab';
  if (/^IMG/.test(t.file)) return 'imaging';
  if (/^eDISP/.test(t.file)) return 'pharmacy';
  return 'physician';
}

export function practitionerPool(consultPhysicians: number): { organisations: { finess: string; name: string; kind: string }[]; practitioners: Practitioner[] } {
  const organisations = Array.from({ length: 8 }, (_, i) => ({
    finess: syntheticFiness(i + 1),
    name: ['CHU', 'Laboratoire', 'Cabinet de radiologie', 'Pharmacie', 'Clinique', 'Maison de santé', 'Centre hospitalier', 'Cabinet'][i] + ` ${i + 1}`,
    kind: ['hopital', 'laboratoire', 'cabinet', 'pharmacie', 'clinique', 'cabinet', 'hopital', 'cabinet'][i],
  }));
  const practitioners: Practitioner[] = [];
  let n = 1;
  const add = (role: Practitioner['role'], count: number, professionCode: string, specialty: string | undefined, finessIdx: number[]) => {
    for (let i = 0; i < count; i++, n++) {
      practitioners.push({
        rpps: syntheticRpps(n), family: FAMILY[n % FAMILY.length], given: GIVEN[(n * 7) % GIVEN.length], professionCode, specialty,
        finess: organisations[finessIdx[i % finessIdx.length]].finess, role,
      });
    }
  };
  add('consult', consultPhysicians, '10', 'SM54', [5, 7, 0]);
  add('lab', 4, '10', 'SM05', [1]);
  add('imaging', 4, '10', 'SM44', [2, 0]);
  add('pharmacy', 3, '21', undefined, [3]);
  add('physician', 10, '10', 'SM26', [0, 4, 6]);
  return { organisations, practitioners };
}

export const professionalActor = (p: Practitioner): Actor => ({
  kind: 'professional', id: p.rpps, name: `${p.given} ${p.family}`, professionCode: p.professionCode,
  ...(p.specialty ? { specialty: p.specialty } : {}), organisation: p.finess,
});

export async function preparePopulation(ctx: Ctx, templates: CdaTemplate[], opts: PopulationOptions): Promise<Population> {
  const started = performance.now();
  const r = rng(opts.seed);
  const { organisations, practitioners } = practitionerPool(opts.consultPhysicians);
  for (const o of organisations) await addOrganisation(ctx, o);
  for (const p of practitioners) {
    await addPractitioner(ctx, { rpps: p.rpps, family: p.family, given: p.given, professionCode: p.professionCode, specialty: p.specialty, organisationFiness: p.finess });
  }
  const consult = practitioners.filter((p) => p.role === 'consult');
  const byRole = (role: Practitioner['role']) => practitioners.filter((p) => p.role === role);
  const records: BenchRecord[] = [];
  const stats: Population['stats'] = { documents: 0, bytes: 0, byClass: {}, byTemplate: {}, prepareSeconds: 0 };
  const total = opts.records * opts.docsPerRecord;
  const now = Date.now();
  let tagN = 0;
  for (let i = 0; i < opts.records; i++) {
    const ins = syntheticIns((opts.insOffset ?? 0) + i);
    const rec = await addPatient(ctx, {
      ins, insOid: TEST_INS_OID, identityStatus: 'qualifiee', activateNow: true,
      demographics: { birthName: FAMILY[i % FAMILY.length].toUpperCase(), firstNames: [GIVEN[(i * 5) % GIVEN.length]], sex: i % 2 ? 'F' : 'M', birthDate: `19${40 + (i % 60)}-0${1 + (i % 9)}-1${i % 10}` },
    });
    const mt = consult[i % consult.length];
    await setMedecinTraitant(ctx, { kind: 'holder', id: rec.recordId, name: 'Titulaire' }, rec.recordId, mt.rpps);
    const br: BenchRecord = { id: rec.recordId, ins, mt: mt.rpps, docIds: [] };
    for (let d = 0; d < opts.docsPerRecord; d++) {
      const t = r.pick(templates);
      const author = r.pick(byRole(authorRole(t)));
      const bytes = documentBytes(personalise(t, ins, author.rpps), tagOf(++tagN + opts.seed * 1e9));
      const meta = metadataFor(bytes);
      // spread over the last ~23 months: inside a professional's default 2-year listing period
      meta.creationTime = new Date(now - r.int(700) * 86_400_000 - r.int(86_400_000)).toISOString();
      meta.uniqueId = `1.2.250.1.999.${opts.seed}.${i}.${d}`;
      const res = await fileDocuments(ctx, professionalActor(author), {
        patient: { recordId: rec.recordId }, transaction: 'ITI-65', mode: 'normal',
        submissionSet: { uniqueId: `1.2.250.1.999.${opts.seed}.${i}.${d}.1`, sourceId: `urn:oid:1.2.250.1.999.${opts.seed}` },
        documents: [{ metadata: meta, bytes }],
      });
      br.docIds.push(res.documents[0].id);
      stats.documents++;
      stats.bytes += bytes.length;
      stats.byClass[meta.category.code] = (stats.byClass[meta.category.code] ?? 0) + 1;
      stats.byTemplate[t.file] = (stats.byTemplate[t.file] ?? 0) + 1;
      if (opts.progress && stats.documents % 500 === 0) opts.progress(stats.documents, total);
    }
    records.push(br);
  }
  stats.prepareSeconds = (performance.now() - started) / 1000;
  return { organisations: organisations.map((o) => o.finess), practitioners, records, stats };
}
