/** `npm run bench -- …` options. */
import { parseArgs } from 'node:util';
import type { Engine } from './store.ts';

export type Scenario = 'feed' | 'consult' | 'holder' | 'growth';
export const ALL_SCENARIOS: Scenario[] = ['consult', 'holder', 'feed', 'growth'];

export interface BenchOptions {
  engines: Engine[];
  scenarios: Scenario[];
  duration: number;
  warmup: number;
  connections: number;
  /** Carnet server processes on PostgreSQL (CARNET_WORKERS); SQLite always runs one. */
  workers: number;
  records: number;
  docsPerRecord: number;
  consultPhysicians: number;
  growth: number[];
  /** Bytes of each bulk-prepared growth document (0: the ~30 KB fixtures, as the feed). */
  growthDocBytes: number;
  /** Records consulted at each growth step (spread over the store). */
  growthSample: number;
  raw: boolean;
  profile: boolean;
  pgUrl: string;
  out: string;
  label: string;
  seed: number;
  quick: boolean;
}

export const USAGE = `npm run bench -- [options]
  --engine sqlite|postgres|all      engines, comma-separated (default all)
  --scenario feed|consult|holder|growth|all   scenarios, comma-separated (default all)
  --duration <s>                    measured seconds per scenario (default 10)
  --warmup <s>                      warm-up seconds before each measure (default 2)
  --connections <n>                 concurrent HTTP clients (default 32)
  --workers <n>                     Carnet server processes on PostgreSQL (CARNET_WORKERS; default 1; SQLite: always 1)
  --records <n>                     records of the prepared population (default 200)
  --docs-per-record <n>             documents per record (default 20)
  --growth <n,n,…>                  document counts of the growth run (default 10000,100000,1000000)
  --growth-doc-bytes <n>            size of each bulk growth document (default 4096; 0 = ~30 KB fixtures)
  --growth-sample <n>               records consulted at each growth step, spread over the store (default 500)
  --no-raw                          skip the raw-database baseline
  --profile                         run the server under --cpu-prof and summarise the profile
  --pg-url <url>                    PostgreSQL admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
  --out <dir>                       results folder (default bench/results)
  --label <text>                    name of the result files (default a timestamp)
  --quick                           small sizes for a fast check (3 s, 40 records, growth 2000,10000)
  --seed <n>                        dataset seed (default 7)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string', default: 'all' },
      scenario: { type: 'string', default: 'all' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '1' },
      records: { type: 'string' },
      'docs-per-record': { type: 'string', default: '20' },
      growth: { type: 'string' },
      'growth-doc-bytes': { type: 'string', default: '4096' },
      'growth-sample': { type: 'string', default: '500' },
      'no-raw': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: 'bench/results' },
      label: { type: 'string' },
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick!;
  const list = <T extends string>(v: string, all: readonly T[]): T[] => {
    const xs = v === 'all' ? [...all] : (v.split(',').map((s) => s.trim()) as T[]);
    for (const x of xs) if (!all.includes(x)) throw new Error(`unknown value ${x} (expected ${all.join(', ')} or all)`);
    return xs;
  };
  const num = (v: string | undefined, d: number) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${v}`);
    return n;
  };
  const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 16);
  return {
    engines: list(values.engine!, ['sqlite', 'postgres'] as const),
    scenarios: ALL_SCENARIOS.filter((s) => list(values.scenario!, ALL_SCENARIOS).includes(s)),
    duration: num(values.duration, quick ? 3 : 10),
    warmup: num(values.warmup, quick ? 1 : 2),
    connections: num(values.connections, 32),
    workers: Math.max(1, Math.floor(num(values.workers, 1))),
    records: num(values.records, quick ? 40 : 200),
    docsPerRecord: num(values['docs-per-record'], 20),
    consultPhysicians: 8,
    growth: (values.growth ?? (quick ? '2000,10000' : '10000,100000,1000000')).split(',').map((s) => num(s, 0)).sort((a, b) => a - b),
    growthDocBytes: num(values['growth-doc-bytes'], 4096),
    growthSample: Math.max(1, num(values['growth-sample'], 500)),
    raw: !values['no-raw'],
    profile: values.profile!,
    pgUrl: values['pg-url']!,
    out: values.out!,
    label: values.label ?? `${stamp}${quick ? '-quick' : ''}`,
    seed: num(values.seed, 7),
    quick,
  };
}
