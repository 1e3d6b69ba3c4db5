/**
 * What a scenario costs the machine, read from /proc: the server child's CPU time and peak memory,
 * the PostgreSQL backends' CPU time (the database's share of the same 2 cores), the whole machine's
 * busy time (other engineers' work included), and the load generator's own CPU.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import pg from 'pg';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* Linux default */
}

/** utime + stime of a process, in seconds (undefined when it is gone). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clkTck;
  } catch {
    return undefined;
  }
}

/** A process and its descendants (a Carnet primary and its workers), from /proc. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds of a process and its live descendants (a worker that ended meanwhile is not counted). */
export function treeCpuSeconds(pid: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of processTree(pid)) {
    const s = processCpuSeconds(p);
    if (s !== undefined) m.set(p, s);
  }
  return m;
}

const sumKb = (pid: number, field: 'VmRSS' | 'VmHWM') => processTree(pid).reduce((a, p) => a + (statusKb(p, field) ?? 0), 0);
/** Resident memory of a process and its descendants. */
export const treeKb = sumKb;

export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (all cores). */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = line[3] + (line[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuWindow {
  /** Server child: CPU seconds per elapsed second (1.0 = one core). */
  serverCores: number;
  /** PostgreSQL backends of the benchmark database (0 on SQLite). */
  databaseCores: number;
  /** The benchmark process itself (autocannon, or the raw baseline's driver). */
  loadCores: number;
  /** All processes of the machine, in cores (2 = both cores busy). */
  machineCores: number;
  elapsedSeconds: number;
}

export interface Window {
  stop(): Promise<CpuWindow>;
}

async function pgBackendPids(adminUrl: string, dbName: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
    return r.rows.map((x) => Number(x.pid));
  } finally {
    await c.end();
  }
}

/** Starts measuring; `stop()` returns the CPU used in between. */
export async function startWindow(opts: { serverPid?: number; pg?: { adminUrl: string; dbName: string } }): Promise<Window> {
  const t0 = performance.now();
  // the server's process tree: one process, or a primary and its workers (CARNET_WORKERS)
  const server0 = opts.serverPid ? treeCpuSeconds(opts.serverPid) : new Map<number, number>();
  const self0 = process.cpuUsage();
  const m0 = machineJiffies();
  const db0 = new Map<number, number>();
  if (opts.pg) for (const pid of await pgBackendPids(opts.pg.adminUrl, opts.pg.dbName)) db0.set(pid, processCpuSeconds(pid) ?? 0);
  return {
    async stop() {
      const elapsed = (performance.now() - t0) / 1000;
      let server = 0;
      if (opts.serverPid) for (const [pid, s] of treeCpuSeconds(opts.serverPid)) server += s - (server0.get(pid) ?? 0);
      const self = process.cpuUsage(self0);
      const m1 = machineJiffies();
      let db = 0;
      if (opts.pg) {
        for (const pid of await pgBackendPids(opts.pg.adminUrl, opts.pg.dbName)) db += (processCpuSeconds(pid) ?? 0) - (db0.get(pid) ?? 0);
      }
      return {
        serverCores: server / elapsed,
        databaseCores: db / elapsed,
        loadCores: (self.user + self.system) / 1e6 / elapsed,
        machineCores: ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cpuCount(),
        elapsedSeconds: elapsed,
      };
    },
  };
}

const cpuCount = () => readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length || 1;

/** Samples a process's resident memory every `everyMs`; `peakKb()` is the highest seen. */
export function rssSampler(pid: number, everyMs = 200) {
  let peak = 0;
  const t = setInterval(() => {
    const v = sumKb(pid, 'VmRSS');
    if (v && v > peak) peak = v;
  }, everyMs);
  t.unref();
  return {
    peakKb: () => peak,
    stop: () => clearInterval(t),
  };
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
