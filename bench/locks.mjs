// bench/locks: generate-metadata on 50 TypeScript scripts that share 5 dependency sets, against
// the real npm registry. Cold: empty wmill cache (temp XDG_CACHE_HOME) and empty npm cache; warm:
// a fresh copy of the same workspace with the wmill cache kept. Prints the resolutions performed
// (expected: 5 cold, 0 warm) and the wall times with their ratio.
// Usage: npm run build && node bench/locks.mjs
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fmt, timeCmd } from './lib.mjs';

const SETS = [
  ['is-number'],
  ['is-odd@3.0.1'],
  ['ms'],
  ['is-number', 'ms'],
  ['escape-html', 'is-odd@3.0.1'],
];
const N = 50;

function makeWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'wmill-bench-locks-'));
  writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
  for (let i = 0; i < N; i++) {
    const set = SETS[i % SETS.length];
    const folder = join(dir, 'f', `g${i % 5}`);
    mkdirSync(folder, { recursive: true });
    const imports = set.map((spec, k) => `import d${k} from "${spec}";`).join('\n');
    writeFileSync(join(folder, `s${i}.ts`), `${imports}\nexport async function main(n: number = ${i}) {\n  return [${set.map((_, k) => `typeof d${k}`).join(', ')}, n];\n}\n`);
  }
  return dir;
}

const scratch = mkdtempSync(join(tmpdir(), 'wmill-bench-locks-cache-'));
const env = { XDG_CACHE_HOME: join(scratch, 'xdg'), npm_config_cache: join(scratch, 'npm') };
const template = makeWorkspace();
const runs = [];
try {
  for (const label of ['cold', 'warm']) {
    const dir = mkdtempSync(join(tmpdir(), `wmill-bench-locks-${label}-`));
    cpSync(template, dir, { recursive: true });
    const r = timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--json'], { cwd: dir, env });
    const j = JSON.parse(r.stdout);
    if (!j.ok) throw new Error(`${label} run failed: ${JSON.stringify(j.failed)}`);
    const locks = new Set(j.updated.map((u) => readFileSync(join(dir, u.file.replace(/\.ts$/, '.script.lock')), 'utf8')));
    runs.push({ label, ms: r.ms, stats: j.lockStats, distinctLocks: locks.size, updated: j.updated.length });
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  rmSync(template, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
for (const r of runs) {
  console.log(
    `${r.label.padEnd(5)} ${String(r.updated).padStart(3)} scripts, ${r.stats.sets} dependency sets: ${r.stats.resolutions} resolution(s), ${r.stats.cacheHits} cache hit(s), ${r.distinctLocks} distinct locks  ${fmt(r.ms).padStart(10)}`,
  );
}
const [cold, warm] = runs;
console.log(`warm / cold wall time: ${(warm.ms / cold.ms).toFixed(2)}x (cold is ${(cold.ms / warm.ms).toFixed(1)}x slower)`);
const ok = cold.stats.resolutions === SETS.length && warm.stats.resolutions === 0;
console.log(ok ? `OK: ${SETS.length} resolutions cold, 0 warm` : `UNEXPECTED: ${cold.stats.resolutions} cold, ${warm.stats.resolutions} warm`);
if (!ok) process.exitCode = 1;
