/**
 * `carnet` — the operator's command line. A thin adapter over the services: parse, call, print.
 */
import { Command, Option } from 'commander';
import { isCarnetError } from '../domain/errors.ts';
import { openCarnet, optionsFromEnv, type Carnet } from '../services/carnet.ts';
import { openDatabase, migrate } from '../store/db.ts';
import { addPatient } from '../services/addPatient.ts';
import { addPractitioner } from '../services/addPractitioner.ts';
import { addOrganisation } from '../services/addOrganisation.ts';
import { verifyAudit } from '../audit/audit.ts';
import { rotateMasterKey } from '../services/rotateKeys.ts';
import { runDailyJobs } from '../services/recordLifecycle.ts';
import { resolve } from 'node:path';

async function withCarnet<T>(fn: (c: Carnet) => Promise<T>, opts: { clock?: () => Date } = {}): Promise<T> {
  const carnet = await openCarnet({ ...optionsFromEnv(), ...opts });
  try {
    return await fn(carnet);
  } finally {
    await carnet.close();
  }
}

const print = (json: boolean, value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

export function buildCli(): Command {
  const program = new Command('carnet')
    .description('Carnet — dossier médical partagé, ouvert et piloté par le patient')
    .showHelpAfterError();

  program
    .command('serve')
    .description('Start the HTTP server (FHIR API, portals) on PORT (default 8080)')
    .option('--port <port>', 'port', process.env.PORT ?? '8080')
    .option('--host <host>', 'address to listen on', process.env.HOST ?? '0.0.0.0')
    .option('--no-demo', 'do not seed the demo population on an empty installation')
    .action(async (o) => {
      const { serve } = await import('../http/serve.ts');
      await serve({ port: Number(o.port), host: o.host, demo: o.demo });
    });

  program
    .command('migrate')
    .description('Apply pending database migrations')
    .action(async () => {
      const env = optionsFromEnv();
      const database = openDatabase({ databaseUrl: env.databaseUrl, dataDir: resolve(env.dataDir ?? './data') });
      try {
        const applied = await migrate(database);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await database.close();
      }
    });

  const patient = program.command('patient').description('Records of persons');
  patient
    .command('add')
    .description('Load a person: opens their record (pending for 6 weeks unless --activate)')
    .requiredOption('--ins <ins>', 'INS (NIR or NIA, 15 characters with the key)')
    .option('--oid <oid>', 'INS OID (default NIR 1.2.250.1.213.1.4.8; test .10, demo .11)')
    .requiredOption('--family <name>', 'birth name')
    .requiredOption('--given <names>', 'first names, comma-separated')
    .addOption(new Option('--sex <sex>', 'sex').choices(['M', 'F', 'U']).default('U'))
    .requiredOption('--birth-date <date>', 'YYYY-MM-DD')
    .option('--birth-place <code>', 'INSEE code of the birth place')
    .option('--email <email>', 'where the opening notice goes')
    .addOption(new Option('--status <status>', 'identity status').choices(['provisoire', 'recuperee', 'validee', 'qualifiee']).default('qualifiee'))
    .option('--activate', 'open the record at once (the person asked for it)')
    .option('--minor', 'the holder is a minor')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const r = await addPatient(ctx, {
          ins: o.ins, insOid: o.oid, identityStatus: o.status, activateNow: !!o.activate, minor: !!o.minor,
          demographics: {
            birthName: o.family, firstNames: String(o.given).split(',').map((s: string) => s.trim()), sex: o.sex,
            birthDate: o.birthDate, birthPlaceCode: o.birthPlace, email: o.email,
          },
        });
        print(o.json, r, `record ${r.recordId} (${r.state})\nactivation code (give it to the person, shown once): ${r.activationCode}`);
      }),
    );

  program
    .command('practitioner')
    .description('Health professionals')
    .command('add')
    .requiredOption('--rpps <rpps>', 'RPPS (11 digits) or idNat_PS (8 + RPPS)')
    .requiredOption('--family <name>', 'family name')
    .requiredOption('--given <name>', 'first name')
    .requiredOption('--profession <code>', 'TRE_G15 profession code (10 médecin, 21 pharmacien, 60 infirmier …)')
    .option('--specialty <code>', 'specialty code (e.g. SM54 médecine générale)')
    .option('--finess <finess>', 'FINESS of the structure')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const r = await addPractitioner(ctx, {
          rpps: o.rpps, family: o.family, given: o.given, professionCode: o.profession, specialty: o.specialty, organisationFiness: o.finess,
        });
        print(o.json, r, `practitioner ${r.rpps} added (${r.given} ${r.family}, profession ${r.profession_code})`);
      }),
    );

  program
    .command('organisation')
    .description('Organisations (FINESS)')
    .command('add')
    .requiredOption('--finess <finess>', 'FINESS (9 characters)')
    .requiredOption('--name <name>', 'name')
    .option('--kind <kind>', 'hospital, lab, practice …', 'etablissement')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const r = await addOrganisation(ctx, { finess: o.finess, name: o.name, kind: o.kind });
        print(o.json, r, `organisation ${r.finess} added (${r.name})`);
      }),
    );

  program
    .command('audit')
    .description('The audit log')
    .command('verify')
    .description('Walk the hash chains and name the first broken entry of each')
    .option('--record <id>', 'only this record’s chain')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const r = await verifyAudit(ctx.db, { recordId: o.record });
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else if (r.ok) console.log(`audit log intact: ${r.entries} entries in ${r.chains} chains`);
        else {
          console.log(`audit log BROKEN: ${r.broken.length} chain(s)`);
          for (const b of r.broken) console.log(`  first broken entry: ${b.message}`);
        }
        if (!r.ok) process.exitCode = 1;
      }),
    );

  program
    .command('keys')
    .description('Master key')
    .command('rotate')
    .description('Re-wrap every record key under a new master key (documents untouched)')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx, keyProvider }) => {
        const r = await rotateMasterKey(ctx, keyProvider, { newKeyBase64: process.env.CARNET_NEW_MASTER_KEY });
        print(o.json, r, `master key rotated to ${r.to}: ${r.rewrapped} record keys re-wrapped`);
      }),
    );

  program
    .command('jobs')
    .description('Scheduled work')
    .command('run')
    .description('Apply the daily time-based transitions (opening, archive expiry, deletions, notices)')
    .option('--now <iso>', 'act as if it were this instant (tests, catch-up)')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const clock = o.now ? () => new Date(o.now) : undefined;
      await withCarnet(async ({ ctx }) => {
        const r = await runDailyJobs(ctx);
        print(o.json, r, `jobs done: ${r.applied.length} transition(s), ${r.notices} notice(s)` +
          r.applied.map((a) => `\n  ${a.recordId}: ${a.event}`).join(''));
      }, { clock });
    });

  program
    .command('client')
    .description('Establishment systems (SMART Backend Services)')
    .command('add')
    .description('Register a system client with its public keys and FINESS')
    .requiredOption('--name <name>', 'software / establishment name')
    .requiredOption('--finess <finess>', 'FINESS of the establishment')
    .option('--client-id <id>', 'client id (default: a new UUID)')
    .option('--jwks <file>', 'file holding the public JWK Set')
    .option('--jwks-url <url>', 'where the client publishes its JWK Set')
    .option('--scope <scopes...>', 'the most this client may be granted (SMART scopes)')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const { readFileSync } = await import('node:fs');
        const { addClient } = await import('../services/clients.ts');
        const c = await addClient(ctx, {
          clientId: o.clientId, name: o.name, finess: o.finess, jwksUrl: o.jwksUrl, scopes: o.scope,
          jwks: o.jwks ? JSON.parse(readFileSync(o.jwks, 'utf8')) : undefined,
        });
        print(o.json, c, `client ${c.clientId} registered for FINESS ${c.finess}\nscopes: ${c.scopes.join(' ')}`);
      }),
    );

  program
    .command('token')
    .description('Mint an access token for any actor from the local signing key (operators, tests)')
    .requiredOption('--as <actor>', 'practitioner:RPPS | holder:INS-or-record-id | operator:id')
    .addOption(new Option('--mode <mode>', 'access mode (professionals)').choices(['normal', 'bris_de_glace', 'centre_15']).default('normal'))
    .option('--justification <text>', 'break-glass justification')
    .option('--name <name>', 'display name (unregistered practitioners)')
    .option('--profession <code>', 'profession code (unregistered practitioners)')
    .option('--finess <finess>', 'structure FINESS')
    .option('--scope <scopes...>', 'SMART scopes')
    .option('--ttl <seconds>', 'lifetime in seconds (max 86400)', '3600')
    .option('--json', 'print the whole token response')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const { loadOrCreateSigningKey } = await import('../auth/signing-keys.ts');
        const { mintActorToken } = await import('../services/mintActorToken.ts');
        const signer = await loadOrCreateSigningKey(ctx.config.dataDir);
        const baseUrl = (process.env.CARNET_BASE_URL ?? `http://localhost:${process.env.PORT ?? 8080}`).replace(/\/+$/, '');
        const t = await mintActorToken(ctx, signer, baseUrl, {
          as: o.as, mode: o.mode, justification: o.justification, name: o.name, professionCode: o.profession,
          organisation: o.finess, scopes: o.scope, ttlSeconds: Number(o.ttl),
        });
        console.log(o.json ? JSON.stringify(t, null, 2) : t.access_token);
      }),
    );

  program
    .command('demo')
    .description('Seed the demo population (only on an empty installation)')
    .action(async () =>
      withCarnet(async (c) => {
        const { seedDemo } = await import('../demo/seed.ts');
        const r = await seedDemo(c);
        console.log(r.seeded ? r.howTo : 'the installation is not empty: nothing seeded');
      }),
    );

  return program;
}

export async function main(argv: string[]) {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    if (isCarnetError(e)) {
      console.error(`error ${e.code}: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}
