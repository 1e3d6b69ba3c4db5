/** The Markdown form of a benchmark run (the JSON beside it holds everything). */
import type { BenchResults, EngineResults, ScenarioResult } from '../run.ts';
import type { ProfileSummary } from './profile.ts';

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 }));
const cores = (n: number) => f(n, 2);
/** CPU milliseconds per request from cores used and requests per second (less sensitive to the machine's other load than latency). */
const perReq = (coresUsed: number, rps: number) => (rps > 0 ? (coresUsed * 1000) / rps : undefined);

const TARGETS = {
  feed: { postgres: 500, sqlite: 1000 },
  consult: { rps: 1500, p99: 50, rawShare: 0.5 },
  growthP50Ratio: 1.5,
};

function ratio(e: EngineResults, scenario: 'feed' | 'consult') {
  const c = e.scenarios.find((s) => s.scenario === scenario);
  const r = e.raw.find((x) => x.scenario === scenario);
  return c && r && r.rps ? c.rps / r.rps : undefined;
}

function targets(e: EngineResults): string[] {
  const rows: string[] = [];
  const feed = e.scenarios.find((s) => s.scenario === 'feed');
  if (feed) {
    const t = TARGETS.feed[e.engine];
    rows.push(`| feed ≥ ${f(t)} docs/s | ${f(feed.rps)} docs/s | ${feed.rps >= t ? 'met' : 'not met'} |`);
  }
  const consult = e.scenarios.find((s) => s.scenario === 'consult');
  if (consult) {
    if (e.engine === 'postgres') {
      rows.push(`| consult ≥ ${f(TARGETS.consult.rps)} req/s at ${consult.connections} clients | ${f(consult.rps)} req/s | ${consult.rps >= TARGETS.consult.rps ? 'met' : 'not met'} |`);
      rows.push(`| consult p99 ≤ ${TARGETS.consult.p99} ms | ${f(consult.latencyMs.p99)} ms | ${consult.latencyMs.p99 <= TARGETS.consult.p99 ? 'met' : 'not met'} |`);
    }
    const r = ratio(e, 'consult');
    if (r !== undefined) rows.push(`| consult ≥ 50 % of the raw baseline | ${f(r * 100, 0)} % | ${r >= TARGETS.consult.rawShare ? 'met' : 'not met'} |`);
  }
  const g = e.growth;
  if (g.length >= 2) {
    const first = g[0];
    const last = g[g.length - 1];
    const r = last.latencyMs.p50 / first.latencyMs.p50;
    rows.push(`| consult p50 at ${f(last.documents, 0)} docs ≤ 1.5 × p50 at ${f(first.documents, 0)} | ${f(r, 2)} × (${f(last.latencyMs.p50, 2)} / ${f(first.latencyMs.p50, 2)} ms) | ${r <= TARGETS.growthP50Ratio ? 'met' : 'not met'} |`);
  }
  return rows;
}

function scenarioRow(s: ScenarioResult) {
  const ok = Object.entries(s.status).every(([k]) => k.startsWith('2')) && !s.errors && !s.timeouts;
  return `| ${s.scenario} | ${f(s.rps)} | ${f(s.latencyMs.p50, 2)} | ${f(s.latencyMs.p95, 2)} | ${f(s.latencyMs.p99, 2)} | ${cores(s.cpu.serverCores)} | ${cores(s.cpu.databaseCores)} | ${cores(s.cpu.loadCores)} | ${cores(s.cpu.machineCores)} | ${f(perReq(s.cpu.serverCores, s.rps), 2)} | ${f(s.peakRssMiB)} | ${f(s.requests, 0)}${ok ? '' : ' ⚠'} | ${s.loadAverage} |`;
}

function profileSection(title: string, p: ProfileSummary): string[] {
  const out = [
    `#### ${title}`,
    '',
    `${f(p.sampledMs / 1000, 1)} s of samples on the server's main thread during the measured load${p.window ? '' : ' (whole run, start-up included)'}, idle ${f(p.idleMs / 1000, 1)} s left out. ` +
      'Samples are taken on wall-clock ticks: time blocked in a system call (an fsync, a socket write that wakes the database) counts for the function that made it.',
    '',
  ];
  out.push('| area (self time) | ms | % |', '|---|---:|---:|');
  for (const a of p.topAreas.slice(0, 12)) out.push(`| ${a.name} | ${f(a.selfMs, 0)} | ${f(a.percent)} |`);
  out.push('', '| function (self time) | where | ms | % |', '|---|---|---:|---:|');
  for (const x of p.topFunctions.slice(0, 15)) out.push(`| \`${x.name}\` | ${x.where} | ${f(x.selfMs, 0)} | ${f(x.percent)} |`);
  out.push('');
  return out;
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const o = [
    `# Carnet benchmark — ${r.label}`,
    '',
    `Command: \`${r.command}\`  `,
    `Run: ${r.startedAt} → ${r.finishedAt ?? '…'}`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpus.count} × ${m.cpus.model}${m.cpus.mhz ? ` (${m.cpus.mhz} MHz)` : ''}`,
    `- Memory: ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}`,
    ...Object.entries(m.engines).map(([k, v]) => `- ${k}: ${v}`),
    `- Load average at start: ${m.loadAverageAtStart}`,
    `- ${m.note}`,
    '',
    `Options: ${r.options.connections} connections, ${r.options.workers ?? 1} Carnet server process(es) on PostgreSQL (one on SQLite), ${r.options.warmup} s warm-up + ${r.options.duration} s measured per scenario, ` +
      `${r.options.records} records × ${r.options.docsPerRecord} documents${r.options.profile ? ', server under --cpu-prof (figures include the profiler\'s overhead)' : ''}.`,
    '',
    'CPU columns are cores used during the measured window (1.00 = one core busy): the Carnet server process, the PostgreSQL backends of the benchmark database, the benchmark process (autocannon or the raw driver), and the whole machine (everyone\'s work). Server CPU and memory cover all its processes (with several workers: their sum; memory is then the sum of each process\'s peak).',
    '',
  ];
  for (const e of r.engines) {
    o.push(`## ${e.engine === 'postgres' ? 'PostgreSQL' : 'SQLite'}`, '');
    if (e.population) {
      o.push(
        `Population (filed through the services, as ITI-65 files): ${e.population.records} records, ${e.population.documents} documents, ` +
          `${f(e.population.bytes / 2 ** 20, 0)} MiB of CDA (mean ${f(e.population.bytes / Math.max(1, e.population.documents) / 1024, 0)} KB, sizes of the CI-SIS fixtures), ` +
          `classes ${Object.entries(e.population.byClass).map(([k, v]) => `${k}: ${v}`).join(', ')}; prepared in ${f(e.population.prepareSeconds, 0)} s.`,
        '',
      );
    }
    if (e.scenarios.length) {
      o.push('| scenario | req/s | p50 ms | p95 ms | p99 ms | server cores | db cores | load-gen cores | machine cores | server CPU ms/req | peak RSS MiB | requests | load avg |');
      o.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
      for (const s of e.scenarios) o.push(scenarioRow(s));
      o.push('');
      for (const s of e.scenarios) for (const n of s.notes) o.push(`- ${s.scenario}: ${n}`);
      o.push('');
    }
    if (e.raw.length) {
      o.push('### Raw baseline (same rows, same queries, straight to the engine)', '');
      o.push('| scenario | ops/s | p50 ms | p99 ms | concurrency | driver cores | db cores | Carnet ÷ raw |', '|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const x of e.raw) {
        const rr = ratio(e, x.scenario);
        o.push(`| ${x.scenario} | ${f(x.rps)} | ${f(x.latencyMs.p50, 3)} | ${f(x.latencyMs.p99, 3)} | ${x.concurrency} | ${cores(x.cpu.loadCores)} | ${cores(x.cpu.databaseCores)} | ${rr === undefined ? '–' : `${f(rr * 100, 0)} %`} |`);
      }
      o.push('');
      for (const x of e.raw) o.push(`- raw ${x.scenario}: ${x.what}`);
      o.push('');
    }
    if (e.growth.length) {
      o.push('### Growth: consult at increasing size (bulk-prepared, read through Carnet)', '');
      o.push(
        `Each step consults a sample of ${f(e.growth[0].consultedRecords ?? 0, 0)} records spread over the whole store, each consulted once before the measure, ` +
          `so that only the size of the tables differs between steps. Growth documents are ${r.options.growthDocBytes ? `${r.options.growthDocBytes} bytes` : 'whole ~30 KB fixtures'}.`,
        '',
      );
      o.push('| documents | records | consulted | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | db CPU ms/req | database size | load avg |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
      for (const g of e.growth) {
        o.push(`| ${f(g.documents, 0)} | ${f(g.records, 0)} | ${f(g.consultedRecords ?? 0, 0)} | ${f(g.rps)} | ${f(g.latencyMs.p50, 2)} | ${f(g.latencyMs.p95, 2)} | ${f(g.latencyMs.p99, 2)} | ${f(perReq(g.cpu.serverCores, g.rps), 2)} | ${f(perReq(g.cpu.databaseCores, g.rps), 2)} | ${f((g.databaseBytes ?? 0) / 2 ** 30, 2)} GiB | ${g.loadAverage} |`);
      }
      o.push('');
    }
    const t = targets(e);
    if (t.length) o.push('### Targets', '', '| target | reached | |', '|---|---|---|', ...t, '');
    const profiled = [...e.scenarios.filter((s) => s.profile).map((s) => [s.scenario, s.profile!] as const), ...e.growth.filter((g) => g.profile).map((g) => [`growth ${g.documents}`, g.profile!] as const)];
    if (profiled.length) {
      o.push('### Profiles (server, --cpu-prof, self time)', '');
      for (const [name, p] of profiled) o.push(...profileSection(`${e.engine} ${name}`, p));
    }
  }
  return o.join('\n') + '\n';
}
