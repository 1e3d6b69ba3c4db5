/** The patients this tab looked up (id → INS and status), so a patient's page survives a reload. */
import type { PatientStatus } from './fhir.ts';

const key = (id: string) => `carnet.pro.patient.${id}`;

export function rememberPatient(p: PatientStatus) {
  sessionStorage.setItem(key(p.id), JSON.stringify(p));
}

export function recalledPatient(id: string): PatientStatus | undefined {
  try {
    const raw = sessionStorage.getItem(key(id));
    return raw ? (JSON.parse(raw) as PatientStatus) : undefined;
  } catch {
    return undefined;
  }
}
