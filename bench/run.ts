/**
 * `npm run bench`: Carnet's real paths measured over HTTP on loopback, beside what the database
 * alone does with the same rows and queries, on each engine; results as JSON and Markdown under
 * bench/results/. See docs/performance.md.
 */
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { openCarnet } from '../src/services/carnet.ts';
import { loadOrCreateSigningKey } from '../src/auth/signing-keys.ts';
import { mintActorToken } from '../src/services/mintActorToken.ts';
import { parseOptions, type BenchOptions } from './lib/options.ts';
import { createStore, engineVersion, type BenchStore, type Engine } from './lib/store.ts';
import { describeMachine } from './lib/machine.ts';
import { loadTemplates } from './lib/cda.ts';
import { preparePopulation, type Population } from './lib/dataset.ts';
import { startServer, freePort, baseUrlFor, REPO } from './lib/server.ts';
import { drive, type LoadResult, type Step } from './lib/load.ts';
import { consultSteps, feedSteps, feedTemplates, holderSteps, type Tokens } from './lib/scenarios.ts';
import { loadAverage } from './lib/probes.ts';
import { rawConsult, rawFeed, type RawResult } from './lib/raw.ts';
import { runGrowth, type GrowthPoint } from './lib/growth.ts';
import { summariseProfile, type ProfileSummary } from './lib/profile.ts';
import { renderMarkdown } from './lib/report.ts';

export interface ScenarioResult extends LoadResult {
  scenario: string;
  engine: Engine;
  connections: number;
  /** Carnet server processes (CARNET_WORKERS). */
  workers: number;
  peakRssMiB: number;
  loadAverage: string;
  notes: string[];
  profile?: ProfileSummary;
}

export interface EngineResults {
  engine: Engine;
  population: Population['stats'] & { records: number; docsPerRecord: number };
  scenarios: ScenarioResult[];
  raw: RawResult[];
  growth: GrowthPoint[];
}

export interface BenchResults {
  label: string;
  command: string;
  startedAt: string;
  finishedAt?: string;
  options: BenchOptions;
  machine: ReturnType<typeof describeMachine>;
  engines: EngineResults[];
}

/** Several Carnet processes only on PostgreSQL (SQLite has one writer, in one process). */
export const workersFor = (opts: BenchOptions, store: BenchStore) => (store.engine === 'postgres' ? opts.workers : 1);
export const workerEnv = (opts: BenchOptions, store: BenchStore) => ({ CARNET_WORKERS: String(workersFor(opts, store)) });

const log = (...a: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

async function mintTokens(store: BenchStore, port: number, pop: Population): Promise<Tokens> {
  const carnet = await openCarnet({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, migrate: false });
  try {
    const signer = await loadOrCreateSigningKey(carnet.ctx.config.dataDir);
    const base = baseUrlFor(port);
    const practitioner = new Map<string, string>();
    for (const p of pop.practitioners) {
      practitioner.set(p.rpps, (await mintActorToken(carnet.ctx, signer, base, { as: `practitioner:${p.rpps}`, ttlSeconds: 86_400 })).access_token);
    }
    const holder = new Map<string, string>();
    for (const r of pop.records) holder.set(r.id, (await mintActorToken(carnet.ctx, signer, base, { as: `holder:${r.id}`, ttlSeconds: 86_400 })).access_token);
    return { practitioner, holder };
  } finally {
    await carnet.close();
  }
}

/** One pass of a client's loop with fetch: every step must answer 2xx before the load starts. */
async function smoke(url: string, steps: Step[]) {
  const ctx: Record<string, any> = {};
  for (const step of steps) {
    const s = step(ctx);
    const r = await fetch(url + s.path, { method: s.method, headers: s.headers, body: s.body });
    const text = await r.text();
    if (!r.ok) throw new Error(`smoke check failed: ${s.method} ${s.path.split('?')[0]} → ${r.status} ${text.slice(0, 600)}`);
  }
}

async function scenario(
  opts: BenchOptions, store: BenchStore, port: number, name: string, steps: Step[], profileDir: string | undefined, notes: string[],
): Promise<ScenarioResult> {
  const server = await startServer(store, { port, profileDir, tag: `${store.engine}-${name}`, env: workerEnv(opts, store) });
  let res: LoadResult;
  let stopped: Awaited<ReturnType<typeof server.stop>> | undefined;
  const load = loadAverage();
  try {
    await smoke(server.url, steps);
    log(`${store.engine} ${name}: ${opts.connections} connections, ${workersFor(opts, store)} server process(es), ${opts.warmup}s warm-up + ${opts.duration}s`);
    res = await drive({
      url: server.url, steps, connections: opts.connections, seconds: opts.duration, warmupSeconds: opts.warmup, serverPid: server.pid,
      pg: store.dbName ? { adminUrl: opts.pgUrl, dbName: store.dbName } : undefined,
    });
  } finally {
    stopped = await server.stop();
  }
  const out: ScenarioResult = {
    scenario: name, engine: store.engine, connections: opts.connections, workers: workersFor(opts, store), ...res,
    peakRssMiB: Math.round((Math.max(stopped.peakRssKb, stopped.vmHwmKb) / 1024) * 10) / 10, loadAverage: load, notes,
  };
  if (stopped.profile) {
    out.profile = summariseProfile(stopped.profile, REPO, 25, { fromMs: res.window.start - server.spawnedAt, toMs: res.window.end - server.spawnedAt });
  }
  const bad = Object.entries(res.status).filter(([s]) => !s.startsWith('2'));
  if (bad.length || res.errors || res.timeouts) out.notes.push(`NOT ALL OK: status ${JSON.stringify(res.status)}, errors ${res.errors}, timeouts ${res.timeouts}`);
  log(`${store.engine} ${name}: ${res.rps} req/s, p50 ${res.latencyMs.p50} ms, p99 ${res.latencyMs.p99} ms, server ${res.cpu.serverCores.toFixed(2)} cores, db ${res.cpu.databaseCores.toFixed(2)}, load ${res.cpu.loadCores.toFixed(2)}, status ${JSON.stringify(res.status)}`);
  return out;
}

async function benchEngine(opts: BenchOptions, engine: Engine, profileDir: string | undefined): Promise<EngineResults> {
  const results: EngineResults = { engine, population: undefined as never, scenarios: [], raw: [], growth: [] };
  const templates = loadTemplates();
  const wantsHttp = opts.scenarios.some((s) => s !== 'growth');
  if (wantsHttp) {
    const store = await createStore(engine, opts.pgUrl);
    try {
      const port = await freePort();
      log(`${engine}: preparing ${opts.records} records × ${opts.docsPerRecord} documents through the services (${store.dbName ?? store.dataDir})`);
      const carnet = await openCarnet({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, migrate: true });
      let pop: Population;
      try {
        pop = await preparePopulation(carnet.ctx, templates, {
          records: opts.records, docsPerRecord: opts.docsPerRecord, consultPhysicians: opts.consultPhysicians, seed: opts.seed,
          progress: (d, t) => log(`  filed ${d}/${t}`),
        });
      } finally {
        await carnet.close();
      }
      results.population = { ...pop.stats, records: opts.records, docsPerRecord: opts.docsPerRecord };
      log(`${engine}: ${pop.stats.documents} documents (${(pop.stats.bytes / 2 ** 20).toFixed(0)} MiB) filed in ${pop.stats.prepareSeconds.toFixed(1)} s`);
      const tokens = await mintTokens(store, port, pop);
      const run = (Date.now() / 1000) | 0;
      if (opts.scenarios.includes('consult')) {
        results.scenarios.push(await scenario(opts, store, port, 'consult', consultSteps(pop, tokens), profileDir, [
          'one ITI-67 search (by INS, ≈20 results, decision + audit) then one ITI-68 retrieve (decryption), by the record\'s médecin traitant; req/s counts both',
        ]));
      }
      if (opts.scenarios.includes('holder')) {
        results.scenarios.push(await scenario(opts, store, port, 'holder', holderSteps(pop, tokens), profileDir, [
          'the portal does not exist yet: the holder\'s token on GET /fhir/DocumentReference?patient= then GET /fhir/AuditEvent?patient= (the API a portal would call)',
        ]));
      }
      if (opts.scenarios.includes('feed')) {
        const f = feedSteps(pop, feedTemplates(templates), tokens, run);
        results.scenarios.push(await scenario(opts, store, port, 'feed', f.steps, profileDir, [
          `ITI-65, one CDA per Bundle (fixtures of 24–40 KB, mean ${Math.round(f.meanBytes / 1024)} KB), each unique; req/s = documents filed per second`,
        ]));
      }
      if (opts.raw) {
        if (opts.scenarios.includes('consult')) {
          log(`${engine}: raw consult baseline`);
          results.raw.push(await rawConsult(store, pop, { seconds: opts.duration, concurrency: opts.connections, warmupSeconds: opts.warmup, pgUrl: opts.pgUrl }));
        }
        if (opts.scenarios.includes('feed')) {
          log(`${engine}: raw feed baseline`);
          results.raw.push(await rawFeed(store, pop, feedTemplates(templates), { seconds: opts.duration, concurrency: opts.connections, warmupSeconds: opts.warmup, pgUrl: opts.pgUrl }));
        }
        for (const r of results.raw) log(`${engine} raw ${r.scenario}: ${r.rps} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`);
      }
    } finally {
      await store.drop();
    }
  }
  if (opts.scenarios.includes('growth')) {
    results.growth = await runGrowth(opts, engine, templates, profileDir, log);
  }
  return results;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const engines: Record<string, string> = {};
  for (const e of opts.engines) engines[e] = await engineVersion(e, opts.pgUrl);
  const results: BenchResults = {
    label: opts.label,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: new Date().toISOString(),
    options: opts,
    machine: describeMachine(engines),
    engines: [],
  };
  log(`machine: ${results.machine.cpus.count} × ${results.machine.cpus.model}, ${results.machine.memoryGiB} GiB, load ${results.machine.loadAverageAtStart}`);
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'carnet-prof-')) : undefined;
  try {
    for (const engine of opts.engines) results.engines.push(await benchEngine(opts, engine, profileDir));
  } finally {
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
  results.finishedAt = new Date().toISOString();
  const outDir = resolve(REPO, opts.out);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, opts.label);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderMarkdown(results));
  log(`results: ${base}.json, ${base}.md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
