/** Test support: locating and loading the shared FHIR fixtures (never edited, always cloned). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_ROOT } from '../../fixtures.ts';

export const FIXTURES = existsSync(join(FIXTURES_ROOT, 'fhir')) ? FIXTURES_ROOT : undefined;

export function fhirFixture<T = any>(name: string): T {
  if (!FIXTURES) throw new Error('shared fixtures not found (set CARNET_FIXTURES)');
  return JSON.parse(readFileSync(join(FIXTURES, 'fhir', name), 'utf8')) as T;
}

export const SUBMISSION = 'pdsm4dmp-Bundle-example-td2-iti65-lot-soumission.json';
export const REPLACEMENT = 'pdsm4dmp-Bundle-example-td2-1-remplacement.json';
export const SEARCHSET = 'pdsm4dmp-Bundle-example-annexe-searchset-documentreferences.json';
export const SIMPLIFIED = 'pdsm4dmp-DocumentReference-example-td2-iti105-publication-simplifiee.json';
