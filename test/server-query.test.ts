/**
 * Bad query values on `wmill serve` (issue 14, item 8): every malformed value is a 400 with one
 * line naming the parameter, never a 500 and never a silently applied default; good values still
 * work. Each request goes through real HTTP on loopback against the embedded database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

let srv: TestServer;
let jobId: string;

beforeAll(async () => {
  srv = await startTestServer({ workers: 1 });
  await srv.api.deploy({ path: 'u/admin/q_echo', language: 'bash', content: 'echo hi\n' });
  const r = await srv.api.post('jobs/run/p/u/admin/q_echo', {});
  expect(r.status, r.text).toBe(201);
  jobId = r.text;
  expect((await srv.api.post('variables/create', { path: 'u/admin/q_var', value: 'v', is_secret: false, description: '' })).status).toBe(201);
  await srv.api.waitJob(jobId);
}, 120_000);

afterAll(async () => {
  await srv?.close();
});

describe('query values on wmill serve', () => {
  it('malformed numbers, booleans and dates are 400 with one line naming the parameter', async () => {
    const cases: [string, string, string][] = [
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_in_secs=1e308', 'scheduled_in_secs'],
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_in_secs=-5', 'scheduled_in_secs'],
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_in_secs=soon', 'scheduled_in_secs'],
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_for=%2B275760-09-13T00:00:00Z', 'scheduled_for'],
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_for=1', 'scheduled_for'],
      ['POST', 'jobs/run/p/u/admin/q_echo?scheduled_for=tomorrow', 'scheduled_for'],
      ['POST', 'jobs/run/preview?timeout=abc', 'timeout'],
      ['POST', 'jobs/run/preview?timeout=1e12', 'timeout'],
      ['GET', 'jobs/list?page=abc', 'page'],
      ['GET', 'jobs/list?page=-1', 'page'], // page 0 is the first page, as in Windmill
      ['GET', 'scripts/list?page=x&per_page=10', 'page'],
      ['GET', 'flows/list?per_page=0', 'per_page'],
      ['GET', 'jobs/list?per_page=-1', 'per_page'],
      ['GET', 'jobs/list?per_page=1.5', 'per_page'],
      ['GET', 'jobs/completed/list?success=maybe', 'success'],
      ['GET', 'jobs/queue/list?running=yes', 'running'],
      ['GET', 'jobs/list?created_after=1', 'created_after'],
      ['GET', 'jobs/list?created_after=not-a-date', 'created_after'],
      ['GET', 'jobs/list?created_after=%2B099999-01-01T00:00:00Z', 'created_after'],
      ['GET', 'scripts/history/p/u/admin/q_echo?page=x', 'page'],
      ['GET', 'scripts/list?show_archived=perhaps', 'show_archived'],
      ['GET', 'flows/list?show_archived=2', 'show_archived'],
      ['GET', 'variables/get/u/admin/q_var?decrypt_secret=no', 'decrypt_secret'],
      ['POST', 'resources/create?update_if_exists=y', 'update_if_exists'],
      ['GET', `jobs_u/get/{job}?no_logs=nope`, 'no_logs'],
      ['GET', `jobs_u/getupdate/{job}?log_offset=-1`, 'log_offset'],
      ['GET', `jobs_u/getupdate/{job}?log_offset=ten`, 'log_offset'],
      ['GET', 'drafts/list?all_users=all', 'all_users'],
      ['GET', 'workspaces/tarball?skip_secrets=perhaps', 'skip_secrets'],
      ['GET', 'workspaces/tarball?default_ts=node', 'default_ts'],
    ];
    for (const [method, path0, param] of cases) {
      const path = path0.replace('{job}', jobId);
      const body =
        method !== 'POST' ? undefined
        : path.startsWith('jobs/run/preview') ? { content: 'echo x', language: 'bash' }
        : path.startsWith('resources/') ? { path: 'u/admin/q_res', value: {}, resource_type: 'any' }
        : {};
      const r = await srv.api.req(method, path, body);
      expect(r.status, `${method} ${path} → ${r.status} ${r.text}`).toBe(400);
      expect(r.text, `${method} ${path}`).toContain(param);
      expect(r.text.split('\n').length, `${method} ${path}: ${r.text}`).toBe(1);
    }
    // Nothing was queued by the refused runs.
    const [n] = await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE path = 'u/admin/q_echo'`);
    expect(n!.n).toBe(1);
  });

  it('good values still work: dates, numbers, booleans, and an over-large per_page is capped', async () => {
    const later = await srv.api.post('jobs/run/p/u/admin/q_echo?scheduled_in_secs=3600', {});
    expect(later.status, later.text).toBe(201);
    const at = await srv.api.post('jobs/run/p/u/admin/q_echo?scheduled_for=2999-01-01T00:00:00Z', {});
    expect(at.status, at.text).toBe(201);
    const queued = await srv.api.get('jobs/queue/list?running=false&per_page=100000&page=1');
    expect(queued.status, queued.text).toBe(200);
    expect((queued.json as { id: string }[]).map((j) => j.id).sort()).toEqual([later.text, at.text].sort());
    const done = await srv.api.get('jobs/completed/list?success=true&created_after=2000-01-01&per_page=10');
    expect(done.status, done.text).toBe(200);
    expect((done.json as { id: string }[]).map((j) => j.id)).toEqual([jobId]);
    expect((await srv.api.get(`jobs_u/getupdate/${jobId}?log_offset=0&no_logs=false`)).status).toBe(200);
    expect((await srv.api.get('scripts/list?show_archived=1&page=1&per_page=5')).status).toBe(200);
    for (const id of [later.text, at.text]) expect((await srv.api.post(`jobs_u/queue/cancel/${id}`, {})).status).toBe(200);
  });

  it('a request body nested deeper than 128 levels is a 400, not a 500', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const r = await srv.api.req('POST', 'jobs/run/p/u/admin/q_echo', `{"x": ${deep}}`);
    expect(r.status, r.text).toBe(400);
    expect(r.text).toMatch(/nested more than 128 levels/);
    const p = await srv.api.req('POST', 'jobs/run/preview', `{"content": "echo x", "language": "bash", "args": {"x": ${deep}}}`);
    expect(p.status, p.text).toBe(400);
  });
});
