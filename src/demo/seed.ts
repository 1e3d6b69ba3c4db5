/**
 * The demo population seeded by `npm start` on an empty installation: a hospital, a lab and a
 * practice, a few professionals of different professions, and three holders — one with the
 * French CI-SIS example documents of `../shared/fixtures/cda/` filed in their record, and their
 * account already activated with a printed demo password (the e-mailed second factor is printed by
 * the console sender). The others keep their activation codes, to try activation. The installation
 * is then marked as a demo (`meta.demo`): the server starts its demo helpers only there.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Carnet } from '../services/carnet.ts';
import type { Actor } from '../domain/access/types.ts';
import { addOrganisation } from '../services/addOrganisation.ts';
import { addPractitioner } from '../services/addPractitioner.ts';
import { addPatient } from '../services/addPatient.ts';
import { fileDocuments } from '../services/fileDocuments.ts';
import { grantConsent, setMedecinTraitant } from '../services/rights.ts';
import { metadataFromCda } from '../services/internal/cda-metadata.ts';
import { activateAccount } from '../services/accounts/activate.ts';
import { settleBacklog } from '../services/outbox/deliver.ts';
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
    { ins: '279035121518989', oid: '1.2.250.1.213.1.4.10', birthName: 'DUPONT', firstNames: ['Jeanne'], sex: 'F' as const, birthDate: '1979-03-05', email: 'jeanne.dupont@example.org' },
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

/** The `meta` row that marks an installation seeded as a demo. */
export const DEMO_META_KEY = 'demo';

/** Whether this installation was seeded as a demo (and when). */
export async function demoMark(c: Carnet): Promise<{ seededAt: string } | undefined> {
  const row = await c.ctx.db.selectFrom('meta').select('value').where('key', '=', DEMO_META_KEY).executeTakeFirst();
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as { seededAt: string };
  } catch {
    return { seededAt: '' };
  }
}

/** Where the seed's how-to is kept for later starts (mode 0600: it holds the demo password and codes). */
export const demoHowToFile = (dataDir: string) => join(dataDir, 'demo-howto.txt');

export interface DemoHolderInfo {
  name: string;
  ins: string;
  oid: string;
  recordId: string;
  /** Set for the holder whose account the seed activated. */
  password?: string;
  /** Set for the holders left to activate. */
  activationCode?: string;
}

export interface SeedResult {
  seeded: boolean;
  howTo: string;
  filed: number;
  holders: DemoHolderInfo[];
}

const PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** A demo password: `carnet-demo-` and 8 random characters (20 characters; the policy wants 12). */
export const newDemoPassword = () => `carnet-demo-${Array.from({ length: 8 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join('')}`;

/**
 * Seeds the demo on an empty installation. `holderAccount: false` leaves the first holder's
 * account to activate, as the others (tests that activate it themselves).
 */
export async function seedDemo(c: Carnet, opts: { holderAccount?: boolean; password?: string } = {}): Promise<SeedResult> {
  if (!(await isEmpty(c))) return { seeded: false, howTo: '', filed: 0, holders: [] };
  const { ctx } = c;
  for (const o of DEMO.organisations) await addOrganisation(ctx, o);
  for (const p of DEMO.practitioners) await addPractitioner(ctx, p);
  const records: { recordId: string; activationCode: string; ins: string }[] = [];
  for (const h of DEMO.holders) {
    const r = await addPatient(ctx, {
      ins: h.ins, insOid: h.oid, identityStatus: 'qualifiee', activateNow: true,
      demographics: {
        birthName: h.birthName, firstNames: h.firstNames, sex: h.sex, birthDate: h.birthDate,
        birthPlaceCode: 'birthPlaceCode' in h ? h.birthPlaceCode : undefined, email: 'email' in h ? h.email : undefined,
      },
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

  // the first holder's account, through the accounts service (the code of her opening notice)
  const holders: DemoHolderInfo[] = DEMO.holders.map((h, i) => ({
    name: `${h.firstNames[0]} ${h.birthName}`, ins: h.ins, oid: h.oid, recordId: records[i].recordId, activationCode: records[i].activationCode,
  }));
  if (opts.holderAccount !== false) {
    const password = opts.password ?? newDemoPassword();
    await activateAccount(ctx, { ins: holders[0].ins, insOid: holders[0].oid, code: records[0].activationCode, password });
    holders[0] = { ...holders[0], password, activationCode: undefined };
  }
  // what the seeding itself announced (records opened, documents filed) is not mailed out: it
  // stays in the in-app centre
  await settleBacklog(ctx, 'SEEDED');
  await ctx.db.insertInto('meta').values({ key: DEMO_META_KEY, value: JSON.stringify({ seededAt: ctx.clock().toISOString() }) })
    .onConflict((oc) => oc.column('key').doNothing()).execute();

  const howTo = demoHowTo({ holders, filed });
  const file = demoHowToFile(ctx.config.dataDir);
  writeFileSync(file, `${howTo}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { seeded: true, howTo, filed, holders };
}

const OID_NAMES: Record<string, string> = { '1.2.250.1.213.1.4.10': 'test OID', '1.2.250.1.213.1.4.11': 'demo OID' };

/** The population part of the how-to (the server adds its addresses and the cards). */
export function demoHowTo(o: { holders: DemoHolderInfo[]; filed: number }): string {
  const [mt, , pharmacist] = DEMO.practitioners;
  const lines = [
    'Carnet demo population seeded (démo) :',
    `  ${DEMO.organisations.length} organisations, ${DEMO.practitioners.length} professionals, ${o.holders.length} holders, ${o.filed} documents (CI-SIS examples)`,
  ];
  for (const h of o.holders) {
    const who = `  holder ${h.name}: INS ${h.ins} (${OID_NAMES[h.oid] ?? h.oid})`;
    if (h.password) lines.push(`${who}, account active, password ${h.password}`);
    else lines.push(`${who}, activation code ${h.activationCode}`);
  }
  lines.push(
    `  médecin traitant: Dr ${mt.given} ${mt.family}, RPPS ${mt.rpps}; pharmacist with consent: ${pharmacist.given} ${pharmacist.family}, RPPS ${pharmacist.rpps}`,
  );
  return lines.join('\n');
}
