/**
 * Synthetic identifiers that pass Carnet's checks: test INS (NIR shape, OID .10, key verified),
 * RPPS with a Luhn key, FINESS with a Luhn key. Deterministic from a seed so two runs build the
 * same population.
 */
export const TEST_INS_OID = '1.2.250.1.213.1.4.10';

/** A small deterministic PRNG (mulberry32): the dataset does not depend on Math.random. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

/** The n-th synthetic NIR-shaped INS: sex, year, month, department, commune, order, key (97 − n mod 97). */
export function syntheticIns(n: number): string {
  const sex = n % 2 === 0 ? '1' : '2';
  const yy = String(40 + (n % 60)).padStart(2, '0');
  const mm = String(1 + (Math.floor(n / 60) % 12)).padStart(2, '0');
  const dept = String(21 + (Math.floor(n / 720) % 70)).padStart(2, '0'); // 21..90, never 20 (Corsica)
  // commune + order carry n itself: unique for n < 1,000,000, and beyond through the other fields
  const body = `${sex}${yy}${mm}${dept}${String(n % 1_000_000).padStart(6, '0')}`;
  const key = 97 - Number(BigInt(body) % 97n);
  return body + String(key).padStart(2, '0');
}

function luhnKey(digits: string): string {
  // the check digit that makes digits + key Luhn-valid
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The n-th synthetic RPPS (11 digits, Luhn key), in a range no real RPPS uses (1 99…). */
export const syntheticRpps = (n: number) => {
  const body = `199${String(n).padStart(7, '0')}`;
  return body + luhnKey(body);
};

/** The n-th synthetic FINESS (9 digits, Luhn key). */
export const syntheticFiness = (n: number) => {
  const body = `99${String(n).padStart(6, '0')}`;
  return body + luhnKey(body);
};
