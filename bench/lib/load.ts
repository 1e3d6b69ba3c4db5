/**
 * Concurrent HTTP clients on loopback with autocannon: a warm-up, then the measured window. Every
 * response's latency is kept (autocannon's own summary has no p95); status codes are counted so a
 * run that answers errors is never reported as throughput.
 */
import autocannon from 'autocannon';
import { startWindow, type CpuWindow } from './probes.ts';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A step of a client's loop; `ctx` is the client's own context (kept between its requests). */
export type Step = (ctx: Record<string, any>) => RequestSpec;

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: LatencyStats;
  status: Record<string, number>;
  errors: number;
  timeouts: number;
  bytesRead: number;
  cpu: CpuWindow;
  /** performance.now() at the start and end of the measured window. */
  window: { start: number; end: number };
}

export function percentiles(values: number[]): LatencyStats {
  if (!values.length) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const v = Float64Array.from(values).sort();
  const at = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(50)), p95: r(at(95)), p99: r(at(99)), mean: r(v.reduce((a, b) => a + b, 0) / v.length), max: r(v[v.length - 1]) };
}

function run(url: string, steps: Step[], connections: number, seconds: number, onResponse?: (status: number, ms: number, bytes: number) => void) {
  return new Promise<any>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        pipelining: 1,
        timeout: 30,
        initialContext: {},
        requests: steps.map((step) => ({
          setupRequest: (_req: unknown, ctx: Record<string, any>) => {
            const s = step(ctx);
            return { method: s.method, path: s.path, headers: s.headers ?? {}, ...(s.body !== undefined ? { body: s.body } : {}) };
          },
        })),
      },
      (err: Error | null, res: any) => (err ? reject(err) : resolve(res)),
    );
    if (onResponse) instance.on('response', (_c: unknown, status: number, bytes: number, ms: number) => onResponse(status, ms, bytes));
  });
}

export async function drive(opts: {
  url: string;
  steps: Step[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
  serverPid?: number;
  pg?: { adminUrl: string; dbName: string };
}): Promise<LoadResult> {
  if (opts.warmupSeconds > 0) await run(opts.url, opts.steps, opts.connections, opts.warmupSeconds);
  const latencies: number[] = [];
  const status: Record<string, number> = {};
  let bytesRead = 0;
  const window = await startWindow({ serverPid: opts.serverPid, pg: opts.pg });
  const t0 = performance.now();
  const res = await run(opts.url, opts.steps, opts.connections, opts.seconds, (s, ms, bytes) => {
    latencies.push(ms);
    status[s] = (status[s] ?? 0) + 1;
    bytesRead += bytes;
  });
  const t1 = performance.now();
  const seconds = (t1 - t0) / 1000;
  const cpu = await window.stop();
  const ok = Object.entries(status).filter(([s]) => s.startsWith('2')).reduce((a, [, n]) => a + n, 0);
  return {
    requests: latencies.length,
    seconds,
    rps: Math.round((ok / seconds) * 10) / 10,
    latencyMs: percentiles(latencies),
    status,
    errors: res.errors ?? 0,
    timeouts: res.timeouts ?? 0,
    bytesRead,
    cpu,
    window: { start: t0, end: t1 },
  };
}
