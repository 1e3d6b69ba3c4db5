/**
 * The demo population seeded by `npm start` on an empty installation: a hospital, a lab and a
 * practice, a few professionals of different professions, and three holders — one with the
 * French CI-SIS example documents of `../shared/fixtures/cda/` filed in their record.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Carnet } from '../services/carnet.ts';
import type { Actor } from '../domain/access/types.ts';
import { addOrganisation } from '../services/addOrganisation.ts';
import { addPractitioner } from '../services/addPractitioner.ts';
import { addPatient } from '../services/addPatient.ts';
import { fileDocuments } from '../services/fileDocuments.ts';
import { grantConsent, setMedecinTraitant } from '../services/rights.ts';
import { metadataFromCda } from '../services/internal/cda-metadata.ts';
import { parseCdaHeader } from '../fhir/cda/header.ts';
import { CarnetError } from '../domain/errors.ts';
import { FIXTURES_ROOT } from '../fixtures.ts';

export const DEMO = {
  organisations: [
    { finess: '750712184', name: 'CHU Demo Paris', kind: 'hopital' },
    { finess: '120459876', name: 'Laboratoire des charmes', kind: 'laboratoire' },
    { finess: '330781196', name: 'Cabinet médical des Tilleuls', kind: 'cabinet' },
  ],
  practitioners: [
    { rpps: '10000000009', family: 'Martin', given: 'Claire', professionCode: '10', specialty: 'SM54', organisationFiness: '330781196' },
    { rpps: '10000000017', family: 'Durand', given: 'Paul', professionCode: '10', specialty: 'SM26', organisationFiness: '750712184' },
    { rpps: '10000000025', family: 'Petit', given: 'Sophie', professionCode: '21', organisationFiness: '330781196' },
    { rpps: '10000000033', family: 'Moreau', given: 'Julien', professionCode: '60', organisationFiness: '750712184' },
    { rpps: '10000000041', family: 'Leroy', given: 'Nadia', professionCode: '10', specialty: 'SM24', organisationFiness: '750712184' },
  ],
  /** Holders; the first carries the fixtures' test INS (OID .10) so the example CDAs file into it. */
  holders: [
    { ins: '279035121518989', oid: '1.2.250.1.213.1.4.10', birthName: 'DUPONT', firstNames: ['Jeanne'], sex: 'F' as const, birthDate: '1979-03-05' },
    { ins: '277076322082910', oid: '1.2.250.1.213.1.4.10', birthName: 'MARTIN', firstNames: ['Louise'], sex: 'F' as const, birthDate: '1977-07-06' },
    { ins: '180012A12345620', oid: '1.2.250.1.213.1.4.11', birthName: 'ROSSI', firstNames: ['Marc'], sex: 'M' as const, birthDate: '1980-01-01', birthPlaceCode: '2A004' },
  ],
};

/** Where the example documents are: the fixtures' cda/ folder (see src/fixtures.ts), else ./../shared/fixtures/cda from the working directory. */
export function fixturesDir(): string | undefined {
  const candidates = [join(FIXTURES_ROOT, 'cda'), resolve('../shared/fixtures/cda')];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export async function isEmpty(c: Carnet) {
  const row = await c.ctx.db.selectFrom('records').select('id').limit(1).executeTakeFirst();
  return !row;
}

export async function seedDemo(c: Carnet): Promise<{ seeded: boolean; howTo: string; filed: number }> {
  if (!(await isEmpty(c))) return { seeded: false, howTo: '', filed: 0 };
  const { ctx } = c;
  for (const o of DEMO.organisations) await addOrganisation(ctx, o);
  for (const p of DEMO.practitioners) await addPractitioner(ctx, p);
  const records: { recordId: string; activationCode: string; ins: string }[] = [];
  for (const h of DEMO.holders) {
    const r = await addPatient(ctx, {
      ins: h.ins, insOid: h.oid, identityStatus: 'qualifiee', activateNow: true,
      demographics: { birthName: h.birthName, firstNames: h.firstNames, sex: h.sex, birthDate: h.birthDate, birthPlaceCode: 'birthPlaceCode' in h ? h.birthPlaceCode : undefined },
    });
    records.push({ ...r, ins: h.ins });
  }
  const holder: Actor = { kind: 'holder', id: records[0].recordId, name: 'Jeanne Dupont' };
  await setMedecinTraitant(ctx, holder, records[0].recordId, DEMO.practitioners[0].rpps);
  await grantConsent(ctx, holder, records[0].recordId, DEMO.practitioners[2].rpps);

  let filed = 0;
  const dir = fixturesDir();
  if (dir) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml')).sort()) {
      const bytes = readFileSync(join(dir, f));
      let header;
      try {
        header = parseCdaHeader(bytes);
      } catch {
        continue;
      }
      const target = records.find((r) => r.ins === header.patient.ins?.value);
      if (!target) continue;
      const meta = metadataFromCda(bytes, header);
      const author = meta.authors.find((a) => a.rpps);
      const actor: Actor = {
        kind: 'professional', id: author?.rpps ?? DEMO.practitioners[1].rpps, name: [author?.given, author?.family].filter(Boolean).join(' ') || 'Demo',
        professionCode: author?.professionCode ?? '10', organisation: author?.organisation?.finess,
      };
      try {
        await fileDocuments(ctx, actor, { patient: { recordId: target.recordId }, documents: [{ metadata: meta, bytes }] });
        filed++;
      } catch (e) {
        if (!(e instanceof CarnetError)) throw e; // a fixture the rules refuse (e.g. a duplicate uniqueId) is skipped
      }
    }
  }
  const howTo = [
    'Carnet demo population seeded:',
    `  ${DEMO.organisations.length} organisations, ${DEMO.practitioners.length} professionals, ${records.length} holders, ${filed} documents`,
    `  holder Jeanne DUPONT: INS ${records[0].ins} (test OID), record ${records[0].recordId}, activation code ${records[0].activationCode}`,
    `  médecin traitant: Dr Claire Martin, RPPS ${DEMO.practitioners[0].rpps}; pharmacist with consent: Sophie Petit, RPPS ${DEMO.practitioners[2].rpps}`,
    '  mint a token for a professional: carnet token --as practitioner:10000000009',
  ].join('\n');
  return { seeded: true, howTo, filed };
}
