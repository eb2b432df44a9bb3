// bench/metadata: generate-metadata on 1,000 generated scripts (mixed languages), first run and
// no-op run, each as a ratio to `node -e 0` measured in the same run; the no-op at 250 vs 1,000
// shows it grows linearly. Also `wmill --version` against `node -e 0` (target: within 1.5x).
// Usage: npm run build && node bench/metadata.mjs [--sizes 250,1000]
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fmt, medianOf, ratio, timeCmd } from './lib.mjs';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg > 0 ? process.argv[sizesArg + 1].split(',').map(Number) : [250, 1000];

function script(i) {
  switch (i % 8) {
    case 0: case 1: case 2:
      return [`s${i}.py`, `from typing import Optional\n\ndef main(name: str, count: int = ${i}, ratio: float = 0.5, flag: bool = False, tag: Optional[str] = None):\n    return {"name": name, "count": count}\n`];
    case 3: case 4:
      return [`s${i}.ts`, `type Mode = "a" | "b";\nexport async function main(name: string, count = ${i}, mode: Mode = "a", tags: string[] = [], opts?: { x: number }) {\n  return { name, count, mode, tags, opts };\n}\n`];
    case 5:
      return [`s${i}.sh`, `name="$1"\ncount="\${2:-${i}}"\necho "$name $count"\n`];
    case 6:
      return [`s${i}.pg.sql`, `-- $1 id = ${i}\n-- $2 label\nSELECT $1::int AS id, $2::text AS label;\n`];
    default:
      return [`s${i}.deno.ts`, `export async function main(a: number, b: number = ${i}, when?: Date) {\n  return a + b;\n}\n`];
  }
}

function makeWorkspace(n) {
  const dir = mkdtempSync(join(tmpdir(), `wmill-bench-meta-${n}-`));
  writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
  for (let i = 0; i < n; i++) {
    const folder = join(dir, 'f', `group${i % 20}`);
    mkdirSync(folder, { recursive: true });
    const [name, content] = script(i);
    writeFileSync(join(folder, name), content);
  }
  return dir;
}

const nodeBase = medianOf(7, () => timeCmd(process.execPath, ['-e', '0']).ms);
const version = medianOf(7, () => timeCmd(process.execPath, [BIN, '--version']).ms);
console.log(`node -e 0                       ${fmt(nodeBase)}  (baseline)`);
console.log(`wmill --version                 ${fmt(version)}  ${ratio(version, nodeBase)} of node -e 0 (target <= 1.5x)`);

const noop = {};
for (const n of SIZES) {
  const dir = makeWorkspace(n);
  try {
    const first = timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir }).ms;
    const nop = medianOf(5, () => timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir }).ms);
    const check = medianOf(5, () => timeCmd(process.execPath, [BIN, 'generate-metadata', '--check'], { cwd: dir }).ms);
    noop[n] = nop;
    console.log(`${String(n).padStart(5)} scripts: first run  ${fmt(first).padStart(10)}  ${ratio(first, nodeBase)} of node -e 0`);
    console.log(`${String(n).padStart(5)} scripts: no-op run  ${fmt(nop).padStart(10)}  ${ratio(nop, nodeBase)} of node -e 0`);
    console.log(`${String(n).padStart(5)} scripts: --check    ${fmt(check).padStart(10)}  ${ratio(check, nodeBase)} of node -e 0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (SIZES.length >= 2) {
  const [a, b] = [SIZES[0], SIZES[SIZES.length - 1]];
  const growth = (noop[b] - nodeBase) / (noop[a] - nodeBase);
  console.log(`no-op growth ${a} -> ${b} scripts (node start-up subtracted): ${growth.toFixed(2)}x for ${(b / a).toFixed(1)}x the scripts (linear = ${(b / a).toFixed(1)}x or less)`);
}
