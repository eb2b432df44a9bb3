/**
 * Fault injection for `sync push` to `wmill serve`: kill -9 the CLI or the server at random
 * points of a 300-item push (adds, updates, deletions, secrets) and of a push holding one item
 * larger than a request, on embedded PGlite and on PostgreSQL. After each kill:
 * - the workspace holds the folder's items either all as before or all as after (never part);
 * - what the CLI printed matches that (`Done` / `pushed` only if applied, `nothing was applied`
 *   only if not, `either all ... or none` for a server that died before answering);
 * - items outside `includes` are untouched;
 * and after a re-run the server equals the folder (`--check` exits 0).
 *
 * The kill points come from a seeded generator; the seed is printed, and
 * WMILL_FAULT_SEED=<seed> replays the same points. WMILL_FAULT_POINTS sets the points per
 * configuration (default 3 for the 300-item push, 2 for the oversized one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ADMIN_TOKEN, freshDatabase, spawnServe } from './helpers/server.js';
import { ours, type Run } from './helpers/sync.js';

const SEED = Number(process.env.WMILL_FAULT_SEED) || Math.floor(Math.random() * 2 ** 31);
const POINTS = Number(process.env.WMILL_FAULT_POINTS) || 0;

/** mulberry32: a small seeded generator (reproducible kill points). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-sync-faults-'));
  console.log(`sync fault injection: seed ${SEED} (WMILL_FAULT_SEED=${SEED} replays these kill points)`);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const SCHEMA = `schema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties: {}\n  required: []\n`;
const meta = (summary: string, lock = '') => `summary: '${summary}'\ndescription: ''\nlock: '${lock}'\nkind: script\n${SCHEMA}`;
const folderMeta = (name: string, summary = '') => `summary: '${summary}'\ndisplay_name: ${name}\nextra_perms: {}\nowners: []\n`;

function writeFolder(files: Record<string, string>, wmillYaml: string): string {
  const dir = mkdtempSync(join(tmp, 'ws-'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const BEFORE_YAML = 'defaultTs: bun\nnonDottedPaths: true\nincludes:\n  - f/**\n  - u/**\nskipSecrets: false\nplainSecrets: true\n';
const AFTER_YAML = 'defaultTs: bun\nnonDottedPaths: true\nincludes:\n  - f/mine/**\nskipSecrets: false\nplainSecrets: true\n';

/** What the push must not touch: outside `includes` of the pushed folder. */
function outside(): Record<string, string> {
  return {
    'f/other/folder.meta.yaml': folderMeta('other'),
    'f/other/theirs.sh': 'echo theirs\n',
    'f/other/theirs.script.yaml': meta('theirs'),
    'f/other/db.resource.yaml': 'resource_type: any\nvalue:\n  host: example\n',
    'f/other/note.variable.yaml': "description: ''\nvalue: keep me\nis_secret: false\n",
    'u/admin/private.sh': 'echo private\n',
    'u/admin/private.script.yaml': meta('private'),
  };
}

/** The workspace before the push: the outside items, and f/mine with items the push updates or deletes. */
function beforeFiles(updated: number, deleted: number): Record<string, string> {
  const f: Record<string, string> = { ...outside(), 'f/mine/folder.meta.yaml': folderMeta('mine', 'before') };
  for (let i = 0; i < updated; i++) {
    f[`f/mine/s${i}.sh`] = `echo "old ${i}"\n`;
    f[`f/mine/s${i}.script.yaml`] = meta(`old ${i}`);
  }
  for (let i = 0; i < deleted; i++) {
    f[`f/mine/gone${i}.sh`] = `echo "gone ${i}"\n`;
    f[`f/mine/gone${i}.script.yaml`] = meta(`gone ${i}`);
  }
  for (let i = 0; i < 5; i++) f[`f/mine/v${i}.variable.yaml`] = `description: ''\nvalue: old-${i}\nis_secret: ${i % 2 === 0}\n`;
  return f;
}

/** The 300-item folder: scripts (some with locks), flows, resources, variables (some secret). */
function bigFiles(): Record<string, string> {
  const f: Record<string, string> = { 'f/mine/folder.meta.yaml': folderMeta('mine', 'after') };
  for (let i = 0; i < 230; i++) {
    f[`f/mine/s${i}.sh`] = `echo "new ${i}"\n`;
    f[`f/mine/s${i}.script.yaml`] = meta(`script ${i}`);
  }
  for (let i = 0; i < 20; i++) {
    f[`f/mine/py${i}.py`] = `def main():\n    return ${i}\n`;
    f[`f/mine/py${i}.script.yaml`] = meta(`python ${i}`, `!inline f/mine/py${i}.script.lock`);
    f[`f/mine/py${i}.script.lock`] = `requests==2.31.${i}\n`;
  }
  for (let i = 0; i < 10; i++) {
    f[`f/mine/flow${i}__flow/a.sh`] = `echo "step ${i}"\n`;
    f[`f/mine/flow${i}__flow/flow.yaml`] =
      `summary: flow ${i}\ndescription: ''\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n        content: '!inline a.sh'\n        language: bash\n        input_transforms: {}\n${SCHEMA}`;
  }
  for (let i = 0; i < 20; i++) f[`f/mine/r${i}.resource.yaml`] = `resource_type: any\nvalue:\n  n: ${i}\n`;
  for (let i = 0; i < 19; i++) f[`f/mine/v${i}.variable.yaml`] = `description: ''\nvalue: new-${i}\nis_secret: ${i % 2 === 0}\n`;
  return f; // 1 + 230 + 20 + 10 + 20 + 19 = 300 items
}

/** A push holding one item larger than a request (16 MB), plus ordinary changes. */
function oversizedFiles(): Record<string, string> {
  const f: Record<string, string> = { 'f/mine/folder.meta.yaml': folderMeta('mine', 'after') };
  f['f/mine/huge.sh'] = `echo huge\n# ${'x'.repeat(17 * 1024 * 1024)}\n`;
  f['f/mine/huge.script.yaml'] = meta('huge');
  for (let i = 0; i < 10; i++) {
    f[`f/mine/s${i}.sh`] = `echo "new ${i}"\n`;
    f[`f/mine/s${i}.script.yaml`] = meta(`script ${i}`);
  }
  for (let i = 0; i < 5; i++) f[`f/mine/v${i}.variable.yaml`] = `description: ''\nvalue: new-${i}\nis_secret: ${i % 2 === 0}\n`;
  return f;
}

type Entry = { kind: string; path: string; hash: string };
const isMine = (e: Entry) => e.path.startsWith('f/mine/') || (e.kind === 'folder' && e.path === 'mine');
const lines = (es: Entry[]) => es.map((e) => `${e.kind}:${e.path}=${e.hash}`).sort();

interface Server {
  url: string;
  port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function serve(args: string[], env: Record<string, string>): Promise<Server> {
  let s = await spawnServe(args, env);
  const port = Number(new URL(s.url).port);
  return {
    url: `${s.url.replace(/\/$/, '')}/`,
    port,
    async kill() {
      if (s.child.exitCode !== null || s.child.signalCode) return;
      const gone = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGKILL');
      await gone;
    },
    async restart() {
      // Same port, so a CLI still running can reach the new process.
      s = await spawnServe([...args, '--port', String(port)], env);
    },
    stop: () => s.stop(),
  };
}

async function manifest(srv: Server, ws: string): Promise<Entry[]> {
  const r = await fetch(`${srv.url}api/w/${ws}/wmill/sync_manifest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bodies: false, plain_secrets: true }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { items: Entry[] }).items.map(({ kind, path, hash }) => ({ kind, path, hash }));
}

async function createWorkspace(srv: Server, id: string): Promise<void> {
  const r = await fetch(`${srv.url}api/workspaces/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id }),
  });
  expect(r.status, await r.text()).toBe(201);
}

const push = (srv: Server, dir: string, ws: string, opts: Parameters<typeof ours>[3] = {}) =>
  ours(dir, ['sync', 'push', '--yes', '--delete'], { url: srv.url, token: ADMIN_TOKEN, ws }, { timeoutMs: 300_000, ...opts });

/**
 * What the CLI's output says about the push: applied, not applied, or either (it was killed
 * before saying, or could not know). A CLI that stopped before it showed the plan summary had not
 * started applying: nothing can have been applied.
 */
function claim(run: Run, ws: string): 'applied' | 'nothing' | 'either' {
  const applied = /^Done: /m.test(run.all) || /^pushed /m.test(run.all);
  const nothing = /nothing was applied/.test(run.all);
  expect(applied && nothing, `contradictory messages:\n${run.all.slice(-3000)}`).toBe(false);
  if (applied) return 'applied';
  if (nothing || !run.all.includes(`remote ${ws} <- local: `)) return 'nothing';
  if (run.signal !== 'SIGKILL') expect(run.all, 'a CLI that ends on its own says what happened').toMatch(/either all \d+ change\(s\) were applied or none/);
  return 'either';
}

async function scenario(name: string, db: 'pglite' | 'postgres', files: () => Record<string, string>, before: () => Record<string, string>, points: number, seed: number) {
  const random = rng(seed);
  let pg: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let srv: Server | undefined;
  try {
    const env: Record<string, string> = {};
    const args = ['--workers', '0'];
    if (db === 'postgres') {
      pg = await freshDatabase();
      env.DATABASE_URL = pg.url;
    } else args.push('--data', mkdtempSync(join(tmp, 'data-')));
    srv = await serve(args, env);

    const after = writeFolder(files(), AFTER_YAML);
    const seedDir = writeFolder(before(), BEFORE_YAML);
    // The reference: the same push, uninterrupted, gives the "after" state and its duration.
    await createWorkspace(srv, 'ref');
    const refSeed = await push(srv, seedDir, 'ref');
    expect(refSeed.code, refSeed.all).toBe(0);
    const beforeAll = await manifest(srv, 'ref');
    const t0 = Date.now();
    const ref = await push(srv, after, 'ref');
    const duration = Date.now() - t0;
    expect(ref.code, ref.all).toBe(0);
    const afterAll = await manifest(srv, 'ref');
    const beforeMine = lines(beforeAll.filter(isMine));
    const afterMine = lines(afterAll.filter(isMine));
    const others = lines(beforeAll.filter((e) => !isMine(e)));
    expect(lines(afterAll.filter((e) => !isMine(e)))).toEqual(others);
    expect(afterMine).not.toEqual(beforeMine);

    const victims = ['cli', 'server', ...Array.from({ length: Math.max(0, points - 2) }, () => (random() < 0.5 ? 'cli' : 'server'))].slice(0, points);
    for (const [i, victim] of victims.entries()) {
      const ws = `k${i}`;
      await createWorkspace(srv, ws);
      const s = await push(srv, seedDir, ws);
      expect(s.code, s.all).toBe(0);
      const delay = Math.floor(random() * duration * 1.2);
      const where = `${name}, point ${i + 1}: kill -9 the ${victim} ${delay} ms into the push (seed ${SEED})`;
      let run: Run;
      if (victim === 'cli') {
        run = await push(srv, after, ws, { killAfterMs: delay });
      } else {
        const p = push(srv, after, ws);
        await new Promise((r) => setTimeout(r, delay));
        await srv.kill();
        await srv.restart();
        run = await p;
      }
      const state = lines((await manifest(srv, ws)).filter(isMine));
      const othersNow = lines((await manifest(srv, ws)).filter((e) => !isMine(e)));
      expect(othersNow, `${where}: items outside includes changed`).toEqual(others);
      const isBefore = JSON.stringify(state) === JSON.stringify(beforeMine);
      const isAfter = JSON.stringify(state) === JSON.stringify(afterMine);
      expect(isBefore || isAfter, `${where}: the push was applied in part\n${run.all.slice(-2000)}`).toBe(true);
      const said = claim(run, ws);
      console.log(`${where}: the CLI ${run.signal ? 'was killed' : `exited ${run.code}`} saying ${said}; the workspace is as ${isAfter ? 'after' : 'before'} the push`);
      if (said === 'applied') expect(isAfter, `${where}: said applied, but it was not\n${run.all.slice(-2000)}`).toBe(true);
      if (said === 'nothing') expect(isBefore, `${where}: said nothing was applied, but it was\n${run.all.slice(-2000)}`).toBe(true);

      const again = await push(srv, after, ws);
      expect(again.code, `${where}: re-run\n${again.all}`).toBe(0);
      const check = await ours(after, ['sync', 'push', '--check'], { url: srv.url, token: ADMIN_TOKEN, ws });
      expect(check.code, `${where}: server differs from the folder after the re-run\n${check.all}`).toBe(0);
      expect(lines((await manifest(srv, ws)).filter(isMine))).toEqual(afterMine);
      expect(lines((await manifest(srv, ws)).filter((e) => !isMine(e)))).toEqual(others);
    }
  } finally {
    await srv?.stop().catch(() => undefined);
    await pg?.drop().catch(() => undefined);
  }
}

describe('sync push under kill -9', () => {
  for (const db of ['pglite', 'postgres'] as const) {
    it(`${db}: a 300-item push`, async () => {
      await scenario(`${db} 300 items`, db, bigFiles, () => beforeFiles(50, 50), POINTS || 3, SEED + (db === 'pglite' ? 1 : 2));
    }, 900_000);
    it(`${db}: a push with an item larger than a request`, async () => {
      await scenario(`${db} oversized`, db, oversizedFiles, () => beforeFiles(10, 10), POINTS || 2, SEED + (db === 'pglite' ? 3 : 4));
    }, 900_000);
  }
});
