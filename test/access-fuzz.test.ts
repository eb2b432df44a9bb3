/**
 * The access check (src/server/access.ts) against a small reference model written here:
 * random users (admins, operators, groups) × paths (u/, g/, f/ with or without a folder, odd
 * ones) × folder permissions (owners, extra_perms read/write, for users, groups and g/all) ×
 * operations (read, list, run, write). Checked three ways: the check itself, the job-visibility
 * SQL filter the job lists use, and the HTTP routes of a real `wmill serve` (read = get, list =
 * listed, run = run by path, write = deploy a version). A failure prints the seed
 * (WMILL_FUZZ_SEED=<n> replays it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openPglite, type Db } from '../src/server/db/db.js';
import { migrate } from '../src/server/db/migrations.js';
import { createWorkspace, type Principal } from '../src/server/auth.js';
import { accessIn, can, canSeeJob, scopeOf, visibleJobsSql, type Op } from '../src/server/access.js';
import { startTestServer, type Api, type TestServer } from './helpers/server.js';

const SEED = Number(process.env.WMILL_FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31);

/** mulberry32: a small seeded PRNG. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const some = <T>(xs: readonly T[], p = 0.3): T[] => xs.filter(() => next() < p);
  return { next, pick, some, chance: (p: number) => next() < p };
}

// ---------------------------------------------------------------------------------------------
// The reference model: Windmill's rules, stated as plainly as possible.

interface User {
  name: string;
  admin: boolean;
  operator: boolean;
  groups: string[];
}
interface Folder {
  owners: string[];
  extra: Record<string, boolean>;
}
type World = { folders: Record<string, Folder> };

function modelLevel(u: User, w: World, path: string): 'none' | 'read' | 'write' {
  if (u.admin) return 'write';
  const parts = path.split('/');
  const ids = [`u/${u.name}`, 'g/all', ...u.groups.map((g) => `g/${g}`)];
  let level: 'none' | 'read' | 'write' = 'none';
  if (parts[0] === 'u' && parts[1] === u.name) level = 'write';
  if (parts[0] === 'g' && (parts[1] === 'all' || u.groups.includes(parts[1]!))) level = 'write';
  const f = parts[0] === 'f' ? w.folders[parts[1]!] : undefined;
  if (f) {
    if (ids.some((i) => f.owners.includes(i) || f.extra[i] === true)) level = 'write';
    else if (ids.some((i) => f.extra[i] === false)) level = 'read';
  }
  if (u.operator && level === 'write') level = 'read';
  return level;
}

function modelCan(u: User, w: World, path: string, op: Op): boolean {
  const l = modelLevel(u, w, path);
  return op === 'write' ? l === 'write' : l !== 'none';
}

interface Job {
  id: string;
  path: string;
  created_by: string;
  permissioned_as: string;
}
const modelSeesJob = (u: User, w: World, j: Job) =>
  u.admin || j.created_by === u.name || j.permissioned_as === `u/${u.name}` || (j.permissioned_as.startsWith('g/') && [...u.groups, 'all'].includes(j.permissioned_as.slice(2))) || modelLevel(u, w, j.path) !== 'none';

// ---------------------------------------------------------------------------------------------

const NAMES = ['ann', 'ben', 'cy', 'dee', 'eve', 'fay', 'gus'];
const GROUPS = ['dev', 'ops', 'qa'];
const FOLDERS = ['alpha', 'beta', 'gamma', 'delta'];
const OPS: Op[] = ['read', 'list', 'run', 'write'];

function randomWorld(r: ReturnType<typeof rng>): { users: User[]; world: World } {
  const users = NAMES.map((name) => ({ name, admin: r.chance(0.12), operator: r.chance(0.2), groups: r.some(GROUPS, 0.4) }));
  const ids = [...NAMES.map((n) => `u/${n}`), ...GROUPS.map((g) => `g/${g}`), 'g/all'];
  const folders: Record<string, Folder> = {};
  for (const f of FOLDERS.slice(0, 3)) {
    const extra: Record<string, boolean> = {};
    for (const id of r.some(ids, 0.3)) extra[id] = r.chance(0.4);
    folders[f] = { owners: r.some(ids, 0.15), extra };
  }
  return { users, world: { folders } };
}

function randomPath(r: ReturnType<typeof rng>, odd = true): string {
  const kind = r.pick(odd ? ['u', 'g', 'f', 'f', 'odd'] : ['u', 'g', 'f', 'f']);
  if (kind === 'u') return `u/${r.pick(NAMES)}/s${Math.floor(r.next() * 3)}`;
  if (kind === 'g') return `g/${r.pick([...GROUPS, 'all'])}/s${Math.floor(r.next() * 3)}`;
  if (kind === 'f') return `f/${r.pick(FOLDERS)}/s${Math.floor(r.next() * 3)}`;
  return r.pick(['u', 'f/alpha', 'x/ann/s', 'f//s', '', 'U/ann/s', 'u/ann', 'g/', '/u/ann/s']);
}

const principal = (u: User): Principal => ({ email: `${u.name}@example.com`, username: u.name, isAdmin: u.admin, superAdmin: false, operator: u.operator, groups: ['all', ...u.groups] });

describe('access check vs a reference model', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wmill-access-fuzz-'));
    db = await openPglite(join(dir, 'data'));
    await migrate(db);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`random users × paths × folder permissions × operations (seed ${SEED})`, async () => {
    const r = rng(SEED);
    let checks = 0;
    for (let round = 0; round < 8; round++) {
      const ws = `w${round}`;
      await createWorkspace(db, ws);
      const { users, world } = randomWorld(r);
      for (const [name, f] of Object.entries(world.folders)) {
        await db.query(`INSERT INTO folder (workspace_id, name, display_name, owners, extra_perms) VALUES ($1,$2,$2,$3::json,$4::json)`, [ws, name, JSON.stringify(f.owners), JSON.stringify(f.extra)]);
      }
      const scopes = new Map<string, Awaited<ReturnType<typeof scopeOf>>>();
      for (const u of users) scopes.set(u.name, await scopeOf(db, ws, principal(u)));
      for (let i = 0; i < 250; i++) {
        const u = r.pick(users);
        const path = randomPath(r);
        const op = r.pick(OPS);
        const want = modelCan(u, world, path, op);
        const ctx = `seed ${SEED}, round ${round}: ${JSON.stringify(u)} ${op} ${JSON.stringify(path)} in ${JSON.stringify(world)}`;
        expect(await can(db, ws, principal(u), path, op), ctx).toBe(want);
        expect(accessIn(scopes.get(u.name)!, path), ctx).toBe(modelLevel(u, world, path));
        checks++;
      }
      // Job visibility: the per-job check and the SQL filter of the lists agree with the model.
      const jobs: Job[] = [];
      for (let i = 0; i < 60; i++) {
        const by = r.pick(NAMES);
        jobs.push({ id: randomUUID(), path: randomPath(r, false), created_by: by, permissioned_as: r.chance(0.85) ? `u/${by}` : `g/${r.pick([...GROUPS, 'all'])}` });
      }
      for (const j of jobs) {
        await db.query(`INSERT INTO job (id, workspace_id, kind, path, language, content, args, created_by, permissioned_as) VALUES ($1,$2,'script',$3,'bash','',$4::json,$5,$6)`, [
          j.id, ws, j.path, '{}', j.created_by, j.permissioned_as,
        ]);
      }
      for (const u of users) {
        const params: unknown[] = [ws];
        const cond = visibleJobsSql(scopes.get(u.name)!, params);
        const seen = new Set((await db.query<{ id: string }>(`SELECT id FROM job WHERE workspace_id = $1 AND ${cond}`, params)).map((x) => x.id));
        for (const j of jobs) {
          const ctx = `seed ${SEED}, round ${round}: ${JSON.stringify(u)} sees job ${JSON.stringify(j)} in ${JSON.stringify(world)}`;
          const want = modelSeesJob(u, world, j);
          expect(seen.has(j.id), ctx).toBe(want);
          expect(await canSeeJob(db, ws, principal(u), { path: j.path, createdBy: j.created_by, permissionedAs: j.permissioned_as }), ctx).toBe(want);
          checks++;
        }
      }
    }
    expect(checks).toBeGreaterThan(2000);
  }, 120_000);
});

describe('the HTTP routes of wmill serve vs the same model', () => {
  let srv: TestServer;
  beforeAll(async () => {
    // No workers: a run is queued (201) or refused, nothing executes.
    srv = await startTestServer({ workers: 0 });
  }, 120_000);
  afterAll(async () => srv?.close());

  it(`read (get), list, run (by path) and write (deploy) as random users (seed ${SEED})`, async () => {
    const r = rng(SEED + 1);
    const { users, world } = randomWorld(r);
    const admin = srv.api;
    const apis = new Map<string, Api>();
    for (const u of users) {
      apis.set(u.name, admin.as(await admin.addUser(u.name, { is_admin: u.admin, operator: u.operator, groups: u.groups })));
    }
    for (const [name, f] of Object.entries(world.folders)) {
      const c = await admin.post('folders/create', { name, owners: f.owners, extra_perms: f.extra });
      expect(c.status, c.text).toBeLessThan(300);
    }
    const paths: string[] = [];
    for (let i = 0; i < 40; i++) paths.push(randomPath(r, false));
    const unique = [...new Set(paths)];
    for (const p of unique) await admin.deploy({ path: p, language: 'bash', content: `echo ${p}\n`, auto_parent: true });
    const lists = new Map<string, Set<string>>();
    for (const u of users) lists.set(u.name, new Set(((await apis.get(u.name)!.get('scripts/list')).json as { path: string }[]).map((x) => x.path)));
    for (let i = 0; i < 300; i++) {
      const u = r.pick(users);
      const api = apis.get(u.name)!;
      const path = r.pick(unique);
      const op = r.pick(OPS);
      const want = modelCan(u, world, path, op);
      const ctx = `seed ${SEED}: ${JSON.stringify(u)} ${op} ${path} in ${JSON.stringify(world)}`;
      if (op === 'read') expect((await api.get(`scripts/get/p/${path}`)).status, ctx).toBe(want ? 200 : 404);
      else if (op === 'list') expect(lists.get(u.name)!.has(path), ctx).toBe(want);
      else if (op === 'run') expect((await api.post(`jobs/run/p/${path}`, {})).status, ctx).toBe(want ? 201 : 404);
      else {
        const w = await api.post('scripts/create', { path, summary: '', description: '', language: 'bash', content: `echo ${path} by ${u.name} ${i}\n`, auto_parent: true });
        expect(w.status, `${ctx}: ${w.text}`).toBe(want ? 201 : 403);
      }
    }
  }, 180_000);
});
