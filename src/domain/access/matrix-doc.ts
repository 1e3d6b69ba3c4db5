/**
 * Renders the habilitation matrix as Markdown (docs/habilitation-matrix.md).
 *   node --import tsx src/domain/access/matrix-doc.ts          rewrite the doc
 *   node --import tsx src/domain/access/matrix-doc.ts --check  exit 1 when the doc is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultMatrix, MES_CATEGORY_LABELS, type HabilitationMatrix } from './matrix.ts';

export const MATRIX_FILE = 'src/domain/access/data/habilitation-matrix.2023.json';
export const MATRIX_DOC_PATH = fileURLToPath(new URL('../../../docs/habilitation-matrix.md', import.meta.url));

const esc = (s: string) => s.replace(/\|/g, '\\|');
const list = (codes: string[], m: HabilitationMatrix) =>
  codes.length === 0 ? '—' : codes.map((c) => `\`${c}\` ${esc(m.types[c]?.label ?? '')}`.trim()).join('<br>');

export function renderMatrixDoc(m: HabilitationMatrix = defaultMatrix, file: string = MATRIX_FILE): string {
  const classCodes = Object.keys(m.classes).sort();
  const profCodes = Object.keys(m.professions).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  const L: string[] = [];
  L.push('# Habilitation matrix');
  L.push('');
  L.push(`<!-- Generated from ${file} by \`node --import tsx src/domain/access/matrix-doc.ts\`. Do not edit by hand. -->`);
  L.push('');
  L.push('Which profession may read which document (DOMAIN §5.5). The access decision applies it to every');
  L.push('professional, médecin traitant, administrateurs and emergency modes included; the holder\'s side');
  L.push('(holder, legal representatives, caregivers, apps) is not bound by it.');
  L.push('');
  L.push(`- **Version**: \`${m.version}\``);
  L.push(`- **Data file**: \`${file}\``);
  L.push(`- **Source**: ${m.source}`);
  if (m.classSystem) L.push(`- **Class codes**: ${m.classSystem}`);
  L.push('');
  L.push('## How a document is judged');
  L.push('');
  L.push('First match wins:');
  L.push('');
  L.push('1. a profession absent from the matrix reads nothing;');
  L.push('2. a document type listed in the profession\'s *refused types* is refused;');
  L.push('3. a document type listed in the profession\'s *extra types* is allowed, whatever its class;');
  L.push('4. a known class is allowed when ticked below (physicians: every known class);');
  L.push(
    `5. an unknown class (or none) is allowed only to: ${m.unknownClassReaders
      .map((p) => `${m.professions[p].label.fr} (${p})`)
      .join(', ')} — the conservative default.`,
  );
  L.push('');
  L.push('## Professions × document classes');
  L.push('');
  L.push(`Columns are class codes: ${classCodes.map((c) => `${c} ${m.classes[c].label.fr}`).join(', ')}.`);
  L.push('');
  L.push(`| code | profession | ${classCodes.join(' | ')} | extra types | refused types |`);
  L.push(`|---|---|${classCodes.map(() => ':-:').join('|')}|---|---|`);
  for (const p of profCodes) {
    const pr = m.professions[p];
    const cells = classCodes.map((c) => (pr.classes === '*' || pr.classes.includes(c) ? '✓' : '·'));
    L.push(`| ${p} | ${esc(pr.label.fr)} | ${cells.join(' | ')} | ${list(pr.types, m)} | ${list(pr.deniedTypes, m)} |`);
  }
  L.push('');
  L.push('## Why, per profession');
  L.push('');
  for (const p of profCodes) {
    const pr = m.professions[p];
    L.push(`- **${p} ${pr.label.fr}** (${pr.label.en}): ${pr.note ?? '—'}`);
  }
  L.push('');
  L.push('## Document classes and the categories the patient sees');
  L.push('');
  L.push('| class | label | MES category |');
  L.push('|---|---|---|');
  for (const c of classCodes) {
    const k = m.classes[c];
    L.push(`| ${c} | ${esc(k.label.fr)} (${esc(k.label.en)}) | ${k.mes} — ${MES_CATEGORY_LABELS[k.mes].fr} |`);
  }
  L.push('');
  L.push('A known document type decides the category before its class (a lab report filed as class 10 is');
  L.push('shown under BIOLOGIE); an unknown type and class fall under AUTR_DOC.');
  L.push('');
  L.push('| type | label | MES category |');
  L.push('|---|---|---|');
  for (const [t, v] of Object.entries(m.types).sort(([a], [b]) => a.localeCompare(b))) {
    L.push(`| \`${t}\` | ${esc(v.label)} | ${v.mes} |`);
  }
  L.push('');
  L.push('## How to change it');
  L.push('');
  L.push('1. Never edit a published version in place: copy the JSON to a new file');
  L.push('   (`habilitation-matrix.<year>.json`) and give it a new `version` and `source`.');
  L.push('2. Every class or type a profession names must be declared under `classes` / `types`;');
  L.push('   `loadMatrix` refuses the file otherwise (error `MATRIX_INVALID`).');
  L.push('3. Point `src/domain/access/matrix.ts` at the new file (or pass `loadMatrix(json)` as');
  L.push('   `policy.matrix` to `decide`), then regenerate this page with');
  L.push('   `node --import tsx src/domain/access/matrix-doc.ts`.');
  L.push('4. Run `node scripts/test.mjs src/domain/access/matrix.test.ts`: it fails when this page is');
  L.push('   out of date with the JSON.');
  L.push('');
  return L.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const text = renderMatrixDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(MATRIX_DOC_PATH, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      console.error(`${MATRIX_DOC_PATH} is out of date; run node --import tsx src/domain/access/matrix-doc.ts`);
      process.exit(1);
    }
    console.log('habilitation-matrix.md is up to date');
  } else {
    writeFileSync(MATRIX_DOC_PATH, text);
    console.log(`wrote ${MATRIX_DOC_PATH}`);
  }
}
