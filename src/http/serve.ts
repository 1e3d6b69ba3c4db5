/**
 * `npm start` / `carnet serve`: open (and migrate) the store, seed the demo when empty, listen,
 * deliver the notifications outbox.
 *
 * A demo installation (seeded by this command: `meta.demo`) and nothing configured also gets what
 * a laptop needs to be tried end to end: the console sender (login codes printed here), and a
 * test PKI with HTTPS + mutual TLS on CARNET_TLS_PORT (8443) beside plain HTTP on PORT (8080), so
 * that a professional logs in with a demo card. A real installation starts none of it.
 */
import { openCarnet, optionsFromEnv } from '../services/carnet.ts';
import { loadOrCreateSigningKey } from '../auth/signing-keys.ts';
import { buildApp } from './app.ts';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { proOidcFromEnv } from '../services/accounts/proOidc.ts';
import { senderFromEnv } from '../services/outbox/senders.ts';
import { startOutboxLoop, type OutboxLoop } from '../services/outbox/loop.ts';
import type { DemoPki } from '../demo/pki.ts';
import cluster from 'node:cluster';

/**
 * HTTPS from the environment: CARNET_TLS_CERT and CARNET_TLS_KEY (PEM files); with
 * CARNET_CLIENT_CA (PEM bundle of the card authorities) professionals may log in with their card
 * (mutual TLS: the certificate is asked for, and checked, but its absence is answered by the route).
 */
function httpsFromEnv(env: NodeJS.ProcessEnv): HttpsServerOptions | undefined {
  if (!env.CARNET_TLS_CERT || !env.CARNET_TLS_KEY) return undefined;
  return {
    cert: readFileSync(env.CARNET_TLS_CERT),
    key: readFileSync(env.CARNET_TLS_KEY),
    ...(env.CARNET_CLIENT_CA ? { ca: readFileSync(env.CARNET_CLIENT_CA), requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** Routes after which a message is likely waiting in the outbox (a code): deliver it now. */
const KICK_ROUTES = /^\/(accounts\/(login|password\/forgot)|oauth2\/authorize\/login)/;

export interface ServeOptions {
  port: number;
  host: string;
  demo: boolean;
}

/** CARNET_WORKERS: how many server processes share the port (PostgreSQL only); 1 by default. */
export function workersFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.CARNET_WORKERS?.trim();
  if (!raw) return 1;
  const n = raw === 'auto' ? availableParallelism() : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`CARNET_WORKERS must be a whole number from 1 to 64, or 'auto' (got '${raw}')`);
  return n;
}

export async function serve(opts: ServeOptions) {
  const workers = workersFromEnv(process.env);
  if (cluster.isPrimary && workers > 1) return servePrimary(opts, workers);
  return serveProcess(opts);
}

/** One server process: the only one, or one worker of several (CARNET_WORKERS). */
async function serveProcess(opts: ServeOptions) {
  const env = process.env;
  // of several workers, the first one alone prints the start-up lines
  const quiet = cluster.isWorker && env.CARNET_WORKER_INDEX !== '1';
  const say = (line: string) => {
    if (!quiet) console.log(line);
  };
  const carnet = await openCarnet({ ...optionsFromEnv(), migrate: true });
  const dataDir = carnet.ctx.config.dataDir;
  const signingKey = await loadOrCreateSigningKey(dataDir);
  const https = httpsFromEnv(env);
  const baseUrl = (env.CARNET_BASE_URL ?? `${https ? 'https' : 'http'}://localhost:${opts.port}`).replace(/\/+$/, '');

  // the demo: seeded on an empty installation (unless --no-demo), recognised on later starts
  let seededHowTo: string | undefined;
  let demo = false;
  if (opts.demo) {
    const { seedDemo, demoMark, demoHowToFile } = await import('../demo/seed.ts');
    const r = await seedDemo(carnet);
    if (r.seeded) seededHowTo = r.howTo;
    demo = !!(await demoMark(carnet));
    if (demo && !seededHowTo && existsSync(demoHowToFile(dataDir))) seededHowTo = readFileSync(demoHowToFile(dataDir), 'utf8').trimEnd();
  }

  // a demo without TLS configured: the demo PKI, and HTTPS with mutual TLS beside HTTP
  let demoPki: DemoPki | undefined;
  let proApp: FastifyInstance | undefined;
  let proBaseUrl: string | undefined;
  const tlsPort = Number(env.CARNET_TLS_PORT ?? 8443);
  if (demo && !https) {
    const { ensureDemoPki } = await import('../demo/pki.ts');
    demoPki = ensureDemoPki(dataDir);
    proBaseUrl = `https://localhost:${tlsPort}`;
    proApp = await buildApp({
      carnet, signingKey, baseUrl: proBaseUrl, proOidc: proOidcFromEnv(env, proBaseUrl),
      https: { cert: readFileSync(demoPki.serverCert), key: readFileSync(demoPki.serverKey), ca: readFileSync(demoPki.caCert), requestCert: true, rejectUnauthorized: false },
    });
    // HSTS is per host, not per port: sent from https://localhost:8443 it would make the browser
    // refuse the holder's space on http://localhost:8080. The demo's HTTPS does not send it.
    proApp.addHook('onSend', async (_req, reply, payload) => {
      reply.removeHeader('strict-transport-security');
      return payload;
    });
  }
  const app = await buildApp({ carnet, signingKey, baseUrl, https, proOidc: proOidcFromEnv(env, baseUrl) });

  // the outbox: console on a demo, SMTP when configured, else nothing (in-app centre only)
  const choice = senderFromEnv(env, { demo });
  let loop: OutboxLoop | undefined;
  if (choice.sender) {
    loop = startOutboxLoop(carnet.ctx, {
      sender: choice.sender,
      portalUrl: `${baseUrl}/connexion`,
      intervalMs: Number(env.CARNET_OUTBOX_INTERVAL_MS ?? 2000),
      // ids, kinds and codes only: the content goes nowhere but to the sender
      log: (e) => {
        if (e.outcome === 'retry' || e.outcome === 'gave_up') {
          app.log.warn({ notification: e.id, kind: e.kind, outcome: e.outcome, code: e.code, attempts: e.attempts, next: e.nextAttemptAt }, 'outbox');
        }
      },
      onError: (e) => app.log.error({ code: (e as { code?: string })?.code ?? 'OUTBOX_PASS_FAILED' }, 'outbox pass failed'),
    });
    for (const a of [app, proApp]) {
      a?.addHook('onResponse', async (req) => {
        if (req.method === 'POST' && KICK_ROUTES.test(req.routeOptions.url ?? '')) loop?.kick();
      });
    }
  }

  await app.listen({ port: opts.port, host: opts.host });
  if (proApp) {
    try {
      await proApp.listen({ port: tlsPort, host: opts.host });
    } catch (e) {
      // the demo goes on without card login rather than not at all
      if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
      console.warn(`Port ${tlsPort} is in use: no HTTPS for the demo's professional cards (set CARNET_TLS_PORT to a free port)`);
      await proApp.close();
      proApp = undefined;
      proBaseUrl = undefined;
    }
  }

  if (seededHowTo) say(seededHowTo);
  const workers = cluster.isWorker ? `, ${workersFromEnv(env)} worker processes` : '';
  say(`Carnet is serving on ${baseUrl} (FHIR base ${baseUrl}/fhir, engine ${carnet.ctx.engine}${workers}, data ${dataDir})`);
  if (proBaseUrl) say(`Carnet is serving on ${proBaseUrl} too (HTTPS, professional cards by mutual TLS)`);
  say(`Notifications: ${senderLine(choice.name, choice.why)}`);
  if (demo) say(demoBanner({ baseUrl, proBaseUrl, pki: demoPki, dataDir, port: opts.port, consoleSender: choice.name === 'console', howToShown: !!seededHowTo }));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await loop?.stop();
    await proApp?.close();
    await app.close();
    await carnet.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * Several server processes on one port (node:cluster): the primary prepares what must be done once
 * (migrations, the token signing key, the demo seed and its PKI), then forks the workers, restarts
 * one that dies after it started, and stops them all on SIGINT/SIGTERM. Each worker is a whole
 * Carnet server with its own pool of connections; what they share lives in the database (sessions,
 * grants, replayed assertions, the outbox, whose rows each worker claims atomically), and what
 * each keeps in memory is a cache that stays correct across processes (verified tokens until their
 * expiry, record keys, first accesses seen, a grant's activity for one second). SQLite has one
 * writer, in one process: several workers need PostgreSQL.
 */
async function servePrimary(opts: ServeOptions, workers: number) {
  const carnet = await openCarnet({ ...optionsFromEnv(), migrate: true });
  try {
    if (carnet.ctx.engine !== 'postgres') {
      console.error(`CARNET_WORKERS=${workers} needs PostgreSQL (DATABASE_URL): SQLite has one writer, in one process. Unset CARNET_WORKERS or set it to 1.`);
      process.exitCode = 1;
      return;
    }
    const dataDir = carnet.ctx.config.dataDir;
    await loadOrCreateSigningKey(dataDir);
    if (opts.demo) {
      const { seedDemo, demoMark } = await import('../demo/seed.ts');
      await seedDemo(carnet);
      if ((await demoMark(carnet)) && !httpsFromEnv(process.env)) (await import('../demo/pki.ts')).ensureDemoPki(dataDir);
    }
  } finally {
    await carnet.close();
  }

  let stopping = false;
  const started = new Set<number>();
  const fork = (index: number) => {
    const worker = cluster.fork({ CARNET_WORKER_INDEX: String(index) });
    worker.once('listening', () => started.add(index));
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      if (!started.has(index)) {
        // a worker that cannot start (port taken, database unreachable) will not start again
        console.error(`Carnet worker ${index} stopped before serving (${signal ?? `exit ${code}`}); stopping.`);
        void stop(1);
        return;
      }
      started.delete(index);
      console.error(`Carnet worker ${index} stopped (${signal ?? `exit ${code}`}); starting it again.`);
      setTimeout(() => !stopping && fork(index), 500).unref();
    });
  };
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
    const exits = alive.map((w) => new Promise<void>((r) => (w!.isDead() ? r() : w!.once('exit', () => r()))));
    for (const w of alive) w!.process.kill('SIGTERM');
    const timer = setTimeout(() => alive.forEach((w) => !w!.isDead() && w!.process.kill('SIGKILL')), 10_000);
    await Promise.all(exits);
    clearTimeout(timer);
    process.exit(code);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for (let i = 1; i <= workers; i++) fork(i);
}

function senderLine(name: string, why: string): string {
  if (name === 'console') return `console sender (${why}): e-mails, login codes included, are printed in this console — for demos only`;
  if (name === 'smtp') return `e-mail by SMTP (${why})`;
  return `none (${why}): nothing is sent; notifications wait in the in-app centre (set CARNET_MAIL_SENDER=smtp and CARNET_SMTP_URL to send e-mail)`;
}

/** How to use the demo: short, and true for this very start. */
function demoBanner(o: { baseUrl: string; proBaseUrl?: string; pki?: DemoPki; dataDir: string; port: number; consoleSender: boolean; howToShown: boolean }): string {
  const show = (p: string) => {
    const r = relative(process.cwd(), p);
    return r && !r.startsWith('..') ? r : p;
  };
  // the `carnet token` command must open this installation and mint for this server's audience
  const envPrefix = [
    resolve(o.dataDir) !== resolve('./data') ? `CARNET_DATA=${show(o.dataDir)}` : '',
    !process.env.CARNET_BASE_URL && o.port !== 8080 ? `PORT=${o.port}` : '',
  ].filter(Boolean).join(' ');
  const ins = 'urn:oid:1.2.250.1.213.1.4.10|279035121518989';
  const lines = [
    '',
    'Essayer la démo — how to try it:',
    `  Holder's space:  ${o.baseUrl}/connexion — Jeanne DUPONT, INS 279035121518989, ${o.howToShown ? 'password above' : 'the password of the first start'}`,
    o.consoleSender
      ? '    then the one-time code: it appears in this console (e-mail printed by the console sender)'
      : '    then the one-time code: it is sent by the configured sender',
  ];
  if (o.pki && o.proBaseUrl) {
    lines.push(
      `  Professional workstation: ${o.proBaseUrl}/pro/connexion — log in with a demo card:`,
      ...o.pki.cards.map((c) => `    ${show(c.p12)}  ${c.name}, ${c.role.en}`),
      `    card password: ${o.pki.cardPassword}`,
      '    import a card: Firefox: Settings › Privacy & Security › Certificates › View Certificates › Your Certificates › Import;',
      '      Chrome/Edge: Settings › Privacy and security › Security › Manage certificates › Your certificates › Import.',
      `    The server's certificate comes from the demo CA ${show(o.pki.caCert)}: import it as an authority, or accept the warning.`,
      `    curl: curl --cacert ${show(o.pki.caCert)} --cert-type P12 --cert ${show(o.pki.cards[0].p12)}:${o.pki.cardPassword} -X POST ${o.proBaseUrl}/pro/login/certificate`,
    );
  } else if (o.baseUrl.startsWith('https')) {
    lines.push(`  Professional workstation: ${o.baseUrl}/pro/connexion (cards of CARNET_CLIENT_CA)`);
  }
  lines.push(
    '  API (a professional\'s token from this installation\'s key):',
    `    TOKEN=$(${envPrefix ? `${envPrefix} ` : ''}npx carnet token --as practitioner:10000000009)`,
    `    curl -H "Authorization: Bearer $TOKEN" '${o.baseUrl}/fhir/DocumentReference?patient.identifier=${ins}&date=ge2000'`,
  );
  return lines.join('\n');
}

