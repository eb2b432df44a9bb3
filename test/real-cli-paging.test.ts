/**
 * `page` / `per_page` on the list routes, and the real windmill-cli's paged listings against
 * `wmill serve` on a workspace holding more than one page: each terminates and lists everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { real } from './helpers/sync.js';

let srv: TestServer;
let tmp: string;
const N = 25;
const names = Array.from({ length: N }, (_, i) => `f/many/item_${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-paging-'));
  srv = await startTestServer({ workers: 1 });
  const api = srv.api;
  expect((await api.post('/api/w/admins/folders/create', { name: 'many' })).status).toBeLessThan(300);
  for (const path of names) {
    const s = await api.post('/api/w/admins/scripts/create', { path, content: 'echo hi\n', language: 'bash', summary: '', description: '', schema: { type: 'object', properties: {}, required: [] } });
    expect(s.status, s.text).toBe(201);
    const f = await api.post('/api/w/admins/flows/create', { path, summary: '', value: { modules: [] }, schema: { type: 'object', properties: {}, required: [] } });
    expect(f.status, f.text).toBe(201);
    const r = await api.post('/api/w/admins/resources/create', { path, value: { n: 1 }, resource_type: 'c_thing', description: '' });
    expect(r.status, r.text).toBeLessThan(300);
    const v = await api.post('/api/w/admins/variables/create', { path, value: 'v', is_secret: false, description: '' });
    expect(v.status, v.text).toBeLessThan(300);
    const sc = await api.post('/api/w/admins/schedules/create', { path, schedule: '0 0 0 1 1 *', timezone: 'UTC', script_path: path, is_flow: false, args: {}, enabled: false });
    expect(sc.status, sc.text).toBeLessThan(300);
  }
}, 180_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const paths = (rows: any[]) => rows.map((x) => x.path ?? x.script_path);

describe('paging on list routes', () => {
  it('pages hold per_page visible items in order; page 0 is the first page; no paging parameters: everything', async () => {
    for (const route of ['scripts/list', 'flows/list', 'resources/list', 'variables/list', 'schedules/list']) {
      const all = (await srv.api.get(`/api/w/admins/${route}`)).json as any[];
      const mine = paths(all).filter((p) => p.startsWith('f/many/'));
      expect(mine, route).toEqual(names);
      const got: string[] = [];
      for (let page = 1; ; page++) {
        const r = await srv.api.get(`/api/w/admins/${route}?page=${page}&per_page=7`);
        expect(r.status, `${route} ${r.text}`).toBe(200);
        expect((r.json as any[]).length).toBeLessThanOrEqual(7);
        got.push(...paths(r.json));
        if ((r.json as any[]).length < 7) break;
      }
      expect(got, route).toEqual(paths(all));
      const zero = await srv.api.get(`/api/w/admins/${route}?page=0&per_page=7`);
      expect(paths(zero.json), route).toEqual(paths(all).slice(0, 7));
      const beyond = await srv.api.get(`/api/w/admins/${route}?page=100&per_page=7`);
      expect(beyond.json, route).toEqual([]);
    }
  });

  it('jobs/list pages too', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await srv.api.post('/api/w/admins/jobs/run_wait_result/p/f/many/item_00', {});
      expect(r.status, r.text).toBe(200);
    }
    const all = (await srv.api.get('/api/w/admins/jobs/list?script_path_exact=f/many/item_00')).json as any[];
    expect(all.length).toBe(3);
    const ids = [];
    for (const page of [1, 2, 3]) ids.push(...((await srv.api.get(`/api/w/admins/jobs/list?script_path_exact=f/many/item_00&page=${page}&per_page=1`)).json as any[]).map((j) => j.id));
    expect(ids).toEqual(all.map((j) => j.id));
  });
});

describe('the real CLI lists a workspace of more than one page', () => {
  it('script list, flow list, resource list terminate and list every item', async () => {
    const cfg = join(tmp, 'cfg');
    const add = await real(tmp, ['workspace', 'add', 'admins', 'admins', srv.url, '--token', srv.token], cfg);
    expect(add.code, add.all).toBe(0);
    for (const cmd of [['script', 'list'], ['flow', 'list'], ['resource', 'list']]) {
      // A server that ignores paging makes these loop forever: the run would be killed (signal set).
      const r = await real(tmp, [...cmd, '--json'], cfg, { timeoutMs: 60_000 });
      expect(r.signal, `${cmd.join(' ')}: ${r.all.slice(-500)}`).toBeNull();
      expect(r.code, r.all).toBe(0);
      const listed = paths(JSON.parse(r.stdout.trim().split('\n').pop()!));
      expect(new Set(listed.filter((p) => p.startsWith('f/many/'))), cmd.join(' ')).toEqual(new Set(names));
      // The CLI asks for pages 0, 1, 2, ...: as on Windmill, page 0 and page 1 are both the first page.
      expect(listed.length, cmd.join(' ')).toBe(paths((await srv.api.get(`/api/w/admins/${cmd[0] === 'script' ? 'scripts' : cmd[0] === 'flow' ? 'flows' : 'resources'}/list`)).json).length + 10);
    }
  }, 240_000);
});
