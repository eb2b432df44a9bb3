/**
 * The sweep that re-queues the jobs of dead workers never takes a job from a live one in the same
 * process: on a loaded machine (or a busy embedded database) a heartbeat can come later than
 * WMILL_WORKER_TIMEOUT_S, and the server must not then run its own running job a second time.
 * The late heartbeat is not left to machine load: the timeout here (0.3 s) is shorter than the
 * heartbeat period (1 s), so every heartbeat is "late".
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

let srv: TestServer;
const tmp = mkdtempSync(join(tmpdir(), 'wmill-heartbeats-'));
// Jobs on serve run sandboxed: the test's folder, where they leave what the test reads, is shown
// to them, writable (as root without capabilities).
Object.assign(process.env, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });

beforeAll(async () => {
  srv = await startTestServer({ staleAfterMs: 300 });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('heartbeat sweep (embedded server)', () => {
  it('does not re-queue a job its own worker is running, however late the heartbeat', async () => {
    const marks = join(tmp, 'runs');
    // Runs for 3 s: ten sweeps, and at least two heartbeat gaps longer than the timeout.
    await srv.api.deploy({ path: 'f/hb/slow', language: 'bash', content: `echo "run $$" >> '${marks}'\nsleep 3\necho finished\n` });
    const id = (await srv.api.post('jobs/run/p/f/hb/slow', {})).text;
    const done = await srv.api.waitJob(id, 120_000);
    expect(done).toMatchObject({ success: true, result: 'finished' });
    expect(readFileSync(marks, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    const [row] = await srv.server.db.query<{ runs: number }>('SELECT runs FROM job WHERE id = $1', [id]);
    expect(row!.runs).toBe(1);
    expect((await srv.api.get(`jobs_u/get_logs/${id}`)).text).not.toMatch(/stopped sending heartbeats/);
  }, 180_000);
});
