/** The machine the figures were taken on. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { loadAverage } from './probes.ts';

export interface MachineInfo {
  cpus: { model: string; count: number; mhz: number };
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: string;
  engines: Record<string, string>;
  note: string;
}

export function describeMachine(engines: Record<string, string>): MachineInfo {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m);
    if (pretty) osName = `${pretty[1]} (kernel ${os.release()})`;
  } catch {
    /* not Linux */
  }
  return {
    cpus: { model: cpus[0]?.model ?? 'unknown', count: cpus.length, mhz: cpus[0]?.speed ?? 0 },
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName,
    node: process.version,
    loadAverageAtStart: loadAverage(),
    engines,
    note:
      `The load generator (autocannon, in the benchmark process), Carnet (its own process) and the database share these ${cpus.length} cores; ` +
      'other engineers were running their tests on the same machine, so figures are noisy (see the load average of each run).',
  };
}
