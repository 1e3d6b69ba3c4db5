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

  // ── carnet pki: a test CA, professional cards and a server certificate (demos, tests) ──
  const pkiCmd = program.command('pki').description('Test PKI for professional card login (mutual TLS): CA, cards, server certificate');
  const pkiDir = (dir?: string) => resolve(dir ?? resolve(process.env.CARNET_DATA ?? './data', 'pki'));
  pkiCmd
    .command('init')
    .description('Create a test certification authority (ca.pem, ca.key) in --dir (default $CARNET_DATA/pki)')
    .option('--dir <dir>', 'where the PKI files live')
    .option('--name <cn>', 'common name of the CA')
    .option('--force', 'replace an existing CA (every card issued by the old one stops working)')
    .action(async (o) => {
      const fs = await import('node:fs');
      const { join } = await import('node:path');
      const { createTestCa } = await import('../auth/pki.ts');
      const dir = pkiDir(o.dir);
      if (fs.existsSync(join(dir, 'ca.pem')) && !o.force) {
        console.error(`a CA already exists in ${dir} (use --force to replace it)`);
        process.exitCode = 2;
        return;
      }
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const ca = createTestCa({ commonName: o.name });
      fs.writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      fs.writeFileSync(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
      console.log(`test CA created: ${join(dir, 'ca.pem')} (key ${join(dir, 'ca.key')}, mode 600)\nserve with CARNET_CLIENT_CA=${join(dir, 'ca.pem')} to accept its cards`);
    });
  pkiCmd
    .command('issue-card')
    .description('Issue a professional card (client certificate): subject serialNumber = 8 + RPPS, title = profession code')
    .requiredOption('--rpps <rpps>', 'RPPS (11 digits) or idNat_PS (8 + RPPS)')
    .requiredOption('--profession <code>', 'TRE_G15 profession code (10 médecin, 21 pharmacien, 60 infirmier …)')
    .requiredOption('--given <given>', 'given name')
    .requiredOption('--family <family>', 'family name')
    .option('--org <name>', 'structure name (display only)')
    .option('--days <days>', 'validity in days', '1095')
    .option('--expired', 'issue an already expired card (negative tests)')
    .option('--p12-password <password>', 'also write a PKCS#12 file (browser import) protected by this password')
    .option('--dir <dir>', 'where the PKI files live')
    .action(async (o) => {
      const fs = await import('node:fs');
      const { join } = await import('node:path');
      const { issueCard, cardToPkcs12 } = await import('../auth/pki.ts');
      const dir = pkiDir(o.dir);
      const ca = { certPem: fs.readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: fs.readFileSync(join(dir, 'ca.key'), 'utf8') };
      const now = Date.now();
      const card = issueCard(ca, {
        rpps: o.rpps, professionCode: o.profession, given: o.given, family: o.family, organisationName: o.org,
        ...(o.expired ? { notBefore: new Date(now - 30 * 86_400_000), notAfter: new Date(now - 86_400_000) } : { validDays: Number(o.days) }),
      });
      const cards = join(dir, 'cards');
      fs.mkdirSync(cards, { recursive: true, mode: 0o700 });
      const base = join(cards, o.rpps.replace(/\D/g, ''));
      fs.writeFileSync(`${base}.pem`, card.certPem);
      fs.writeFileSync(`${base}.key`, card.keyPem, { mode: 0o600 });
      if (o.p12Password) fs.writeFileSync(`${base}.p12`, cardToPkcs12(card, ca, o.p12Password), { mode: 0o600 });
      console.log(`card issued: ${base}.pem (key ${base}.key${o.p12Password ? `, PKCS#12 ${base}.p12` : ''})`);
    });
  pkiCmd
    .command('issue-server')
    .description('Issue the HTTPS server certificate (server.pem, server.key) signed by the test CA')
    .option('--host <hosts...>', 'DNS names or IP addresses', ['localhost', '127.0.0.1'])
    .option('--days <days>', 'validity in days', '397')
    .option('--dir <dir>', 'where the PKI files live')
    .action(async (o) => {
      const fs = await import('node:fs');
      const { join } = await import('node:path');
      const { issueServerCert } = await import('../auth/pki.ts');
      const dir = pkiDir(o.dir);
      const ca = { certPem: fs.readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: fs.readFileSync(join(dir, 'ca.key'), 'utf8') };
      const server = issueServerCert(ca, { hosts: o.host, validDays: Number(o.days) });
      fs.writeFileSync(join(dir, 'server.pem'), server.certPem);
      fs.writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
      console.log(`server certificate issued for ${o.host.join(', ')}: ${join(dir, 'server.pem')}\nserve with CARNET_TLS_CERT=${join(dir, 'server.pem')} CARNET_TLS_KEY=${join(dir, 'server.key')} CARNET_CLIENT_CA=${join(dir, 'ca.pem')}`);
    });

  // --- catalogue apps (SMART App Launch; services/apps, docs/apps.md) ---
  const appCmd = program.command('app').description('The catalogue of apps holders may connect (SMART App Launch)');
  appCmd
    .command('add')
    .description('Register a referenced app: name, purposes, scopes, redirect URIs, public (PKCE) or confidential (JWKS)')
    .requiredOption('--name <name>', 'the app name holders see (and read in their access history)')
    .requiredOption('--redirect-uri <uris...>', 'exact redirect URIs')
    .requiredOption('--purpose <specs...>', 'purposes: "id=bio;label=Suivre vos analyses;categories=BIOLOGIE;types=11502-2;label-en=…" or JSON')
    .option('--scope <scopes...>', 'the most the app may be granted (default: openid fhirUser launch/patient offline_access patient/DocumentReference.rs patient/Binary.r)')
    .option('--client-id <id>', 'client id (default: app-<uuid>)')
    .option('--description <text>', 'one line shown in the catalogue')
    .option('--launch-url <url>', 'where holders start the app')
    .option('--jwks <file>', 'confidential app: file holding its public JWK Set')
    .option('--jwks-url <url>', 'confidential app: where it publishes its JWK Set')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const { readFileSync } = await import('node:fs');
        const { addApp, parsePurposeSpec } = await import('../services/apps/catalogue.ts');
        const a = await addApp(ctx, {
          clientId: o.clientId, name: o.name, description: o.description, redirectUris: o.redirectUri, scopes: o.scope,
          purposes: (o.purpose as string[]).map(parsePurposeSpec), launchUrl: o.launchUrl, jwksUrl: o.jwksUrl,
          jwks: o.jwks ? JSON.parse(readFileSync(o.jwks, 'utf8')) : undefined,
        });
        print(o.json, a, `app ${a.clientId} registered (${a.clientType})\nname: ${a.name}\nscopes: ${a.scopes.join(' ')}\n` +
          `purposes: ${a.purposes.map((p) => p.id).join(', ')}\nredirect URIs: ${a.redirectUris.join(' ')}`);
      }),
    );
  appCmd
    .command('list')
    .description('The catalogue')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withCarnet(async ({ ctx }) => {
        const { listApps } = await import('../services/apps/catalogue.ts');
        const apps = await listApps(ctx);
        print(o.json, apps, apps.length ? apps.map((a) => `${a.clientId}\t${a.clientType}\t${a.name}\t${a.purposes.map((p) => p.id).join(',')}`).join('\n') : 'no app in the catalogue');
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
