/**
 * Trust follow-ups on `wmill serve` (embedded PGlite and PostgreSQL):
 * - two resumes of a suspended flow at once (two different signed links, as two approvers
 *   clicking together) resume it once: the check and the record are one transaction on the
 *   job's row, the second is refused (409) and is not left over to approve the next suspend step;
 *   the same for a workflow's approval step. On PostgreSQL, where two requests really run at the
 *   same time. (PGlite runs one statement at a time: there the second request is decided after
 *   the first, and when the flow has already moved on it is an early approval of the next step,
 *   as any resume that comes before its step waits.)
 * - WM_EMAIL is the email of the user the job runs as.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, startTestServer, type TestServer } from './helpers/server.js';

async function until(what: string, cond: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(['pglite', 'postgresql'] as const)('wmill serve on %s', (backend) => {
  let srv: TestServer;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = backend === 'postgresql' ? await freshDatabase() : undefined;
    drop = db?.drop;
    srv = await startTestServer({ databaseUrl: db?.url });
  }, 180_000);
  afterAll(async () => {
    await srv?.close();
    await drop?.();
  });

  const step = (id: string) => ({ id, value: { type: 'rawscript', language: 'bash', content: `echo ${id}\n`, input_transforms: {} }, suspend: { required_events: 1, timeout: 3600 } });
  const waitingAt = async (id: string, i: number) => (await srv.api.get(`jobs_u/get/${id}`)).json?.flow_status?.modules?.[i]?.type === 'WaitingForEvents';
  const link = async (id: string, rid: number) => {
    const r = await srv.api.get(`jobs/resume_urls/${id}/${rid}`);
    expect(r.status, r.text).toBe(200);
    return r.json.resume as string;
  };

  it.skipIf(backend === 'pglite')('two resumes of a suspended flow at once resume it once; the second is refused and not left for the next step', async () => {
    const id = (await srv.api.post('jobs/run/preview_flow', { value: { modules: [step('a'), step('b')] }, args: {} })).text;
    await until('step a to wait', () => waitingAt(id, 0));
    const [l1, l2] = [await link(id, 11), await link(id, 22)];
    const answers = await Promise.all([l1, l2].map((u) => fetch(u, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses, await Promise.all(answers.map((r) => r.text())).then((t) => t.join(' | '))).toEqual([201, 409]);
    // Step b waits for its own approval: the refused resume did not count for it.
    await until('step b to wait', () => waitingAt(id, 1));
    const mid = await srv.api.get(`jobs_u/get/${id}`);
    expect(mid.json.type, 'the flow ran past b without an approval').toBe('QueuedJob');
    const r3 = await fetch(await link(id, 33), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(r3.status).toBe(201);
    const done = await srv.api.waitJob(id);
    expect(done.success, JSON.stringify(done)).toBe(true);
  }, 180_000);

  it.skipIf(backend === 'pglite')("two resumes of a workflow's approval at once resume it once", async () => {
    const wac = `import { workflow, step, waitForApproval } from "windmill-client";
export const main = workflow(async () => {
  const first = await waitForApproval({ key: "a", timeout: 3600 });
  const second = await waitForApproval({ key: "b", timeout: 3600 });
  return { first: first.value, second: second.value };
});
`;
    const id = (await srv.api.post('jobs/run/preview', { language: 'bun', content: wac, args: {} })).text;
    const logs = async () => (await srv.api.get(`jobs_u/get_logs/${id}`)).text;
    await until('the workflow to wait for a', async () => (await logs()).includes("waiting for approval 'a'"));
    const [l1, l2] = [await link(id, 101), await link(id, 202)];
    const post = (u: string, v: string) => fetch(u, { method: 'POST', body: JSON.stringify(v), headers: { 'content-type': 'application/json' } });
    const answers = await Promise.all([post(l1, 'one'), post(l2, 'two')]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
    // The second approval still waits for someone.
    await until('the workflow to wait for b', async () => (await logs()).includes("waiting for approval 'b'"));
    expect((await srv.api.get(`jobs_u/completed/get_result_maybe/${id}`)).json?.completed).toBe(false);
    expect((await post(await link(id, 303), 'three')).status).toBe(201);
    const done = await srv.api.waitJob(id);
    expect(done.success, JSON.stringify(done)).toBe(true);
    expect(done.result.second).toBe('three');
  }, 180_000);

  it("WM_EMAIL is the email of the job's user", async () => {
    const alice = srv.api.as(await srv.api.addUser(`alice${backend}`));
    const r = await alice.post('jobs/run_wait_result/preview', { language: 'bash', content: 'echo "$WM_EMAIL"\n', args: {} });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toBe(`alice${backend}@example.com`);
  }, 120_000);
});
