/**
 * Where the shared fixtures are (`../shared/fixtures` beside the repository, as on the developers'
 * machines and in CI's fresh clone), or `$CARNET_FIXTURES` (the fixtures root, holding `cda/` and
 * `fhir/`). Used by the demo seed, the tests and the benchmarks.
 */
import { fileURLToPath } from 'node:url';

export const FIXTURES_ROOT: string = process.env.CARNET_FIXTURES ?? fileURLToPath(new URL('../../shared/fixtures', import.meta.url));
