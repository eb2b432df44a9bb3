/**
 * Our Python `wmill` module (python/wmill/) against a real `wmill serve` on loopback: each
 * client call scripts use (Windmill's Python client names, arguments and return shapes) from
 * inside deployed Python jobs, one test per function or family.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ workers: 3 });
  const api = srv.api;
  await api.deploy({ path: 'f/py/add', language: 'python3', content: 'def main(a: int, b: int):\n    return a + b\n' });
  await api.deploy({ path: 'f/py/boom', language: 'python3', content: 'def main():\n    raise ValueError("kaboom")\n' });
  await api.deploy({ path: 'f/py/nothing', language: 'python3', content: 'def main():\n    return None\n' });
  await api.deploy({ path: 'f/py/sleep', language: 'python3', content: 'import time\n\ndef main(s: float = 60):\n    time.sleep(s)\n    return "slept"\n' });
  const flow = { modules: [{ id: 'double', value: { type: 'rawscript', language: 'python3', content: 'def main(x):\n    return x * 2\n', input_transforms: { x: { type: 'javascript', expr: 'flow_input.x' } } } }] };
  expect((await api.post('flows/create', { path: 'f/py/double', summary: '', value: flow })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await srv?.close();
});

/** Deploy `code` (a Python script using wmill) at `path` and run it by path, waiting for its result. */
const deployed = new Set<string>();
async function py(path: string, code: string, args: Record<string, unknown> = {}): Promise<{ id: string; success: boolean; result: any }> {
  if (!deployed.has(path)) await srv.api.deploy({ path, language: 'python3', content: code });
  deployed.add(path);
  const id = (await srv.api.post(`jobs/run/p/${path}`, args)).text;
  const done = await srv.api.waitJob(id, 120_000);
  return { id, success: done.success, result: done.result };
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => Promise<boolean>) {
  for (let i = 0; i < 600; i++) {
    if (await cond()) return;
    await sleepMs(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('running scripts and flows', () => {
  it('run_script_by_path / run_script wait for the result; a failed child raises with its error; the child is tracked as ours', async () => {
    const r = await py(
      'f/py/caller',
      [
        'import wmill',
        '',
        'def main():',
        '    out = {"by_path": wmill.run_script_by_path("f/py/add", args={"a": 1, "b": 2})}',
        '    out["run_script"] = wmill.run_script(path="f/py/add", args={"a": 2, "b": 2})',
        '    out["sync"] = wmill.run_script_by_path_sync("f/py/add", args={"a": 3, "b": 4})',
        '    for name, call in [("boom", lambda: wmill.run_script_by_path("f/py/boom")), ("none", lambda: wmill.run_script_by_path("f/py/nothing")),',
        '                       ("missing", lambda: wmill.run_script_by_path("f/py/not_there"))]:',
        '        try:',
        '            out[name] = ["returned", call()]',
        '        except Exception as e:',
        '            out[name] = [type(e).__name__, str(e)]',
        '    out["none_allowed"] = wmill.Windmill().run_script_by_path("f/py/nothing")',
        '    return out',
      ].join('\n'),
    );
    expect(r.success, JSON.stringify(r.result)).toBe(true);
    expect(r.result).toMatchObject({ by_path: 3, run_script: 4, sync: 7, none_allowed: null });
    expect(r.result.boom[0]).toBe('Exception');
    expect(r.result.boom[1]).toMatch(/^Job [0-9a-f-]{36} was not successful: .*kaboom/);
    expect(r.result.none[1]).toMatch(/result is None/);
    expect(r.result.missing).toEqual(['WindmillHTTPError', expect.stringContaining("404, Script 'f/py/not_there' not found")]);
    const children = (await srv.api.get('jobs/completed/list?script_path_exact=f/py/add')).json as any[];
    expect(children.filter((j) => j.parent_job === r.id)).toHaveLength(3);
  }, 120_000);

  it('run_script_by_hash runs that exact version, not the newest', async () => {
    const h1 = await srv.api.deploy({ path: 'f/py/ver', language: 'python3', content: 'def main():\n    return "v1"\n' });
    await srv.api.deploy({ path: 'f/py/ver', language: 'python3', content: 'def main():\n    return "v2"\n', parent_hash: h1 });
    const r = await py(
      'f/py/by_hash',
      'import wmill\n\ndef main(h: str):\n    return [wmill.run_script_by_hash(h), wmill.run_script_by_path("f/py/ver"), wmill.run_script_sync(h), wmill.run_script(hash_=h)]\n',
      { h: h1 },
    );
    expect(r.result).toEqual(['v1', 'v2', 'v1', 'v1']);
  }, 120_000);

  it('run_script_async / run_script_by_path_async / run_script_by_hash_async return job ids; wait_job, get_result and get_job_status follow them', async () => {
    const h = (await srv.api.get('scripts/get/p/f/py/add')).json.hash;
    const r = await py(
      'f/py/asyncs',
      [
        'import wmill',
        '',
        'def main(h: str):',
        '    ids = [wmill.run_script_async("f/py/add", args={"a": 5, "b": 5}), wmill.run_script_async(h, args={"a": 1, "b": 0}),',
        '           wmill.run_script_by_path_async("f/py/add", args={"a": 2, "b": 0}), wmill.run_script_by_hash_async(h, args={"a": 3, "b": 0})]',
        '    c = wmill.Windmill()',
        '    waited = [c.wait_job(i) for i in ids]',
        '    return {"ids": ids, "waited": waited, "results": [wmill.get_result(i) for i in ids], "statuses": [wmill.get_job_status(i) for i in ids]}',
      ].join('\n'),
      { h },
    );
    expect(r.success, JSON.stringify(r.result)).toBe(true);
    for (const id of r.result.ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.result.waited).toEqual([10, 1, 2, 3]);
    expect(r.result.results).toEqual([10, 1, 2, 3]);
    expect(r.result.statuses).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
  }, 120_000);

  it('get_job_status is WAITING for a scheduled job, RUNNING for a running one, COMPLETED once cancel_job ended it; wait_job times out', async () => {
    const r = await py(
      'f/py/statuses',
      [
        'import time, wmill',
        '',
        'def main():',
        '    later = wmill.run_script_by_path_async("f/py/add", args={"a": 1, "b": 1}, scheduled_in_secs=3600)',
        '    out = {"scheduled": wmill.get_job_status(later)}',
        '    out["cancel"] = wmill.cancel_job(later, "not needed")',
        '    out["after_cancel"] = wmill.get_job_status(later)',
        '    out["canceled_result"] = wmill.get_result(later)',
        '    slow = wmill.run_script_async("f/py/sleep", args={"s": 60})',
        '    for _ in range(600):',
        '        if wmill.get_job_status(slow) == "RUNNING":',
        '            break',
        '        time.sleep(0.05)',
        '    out["slow"] = wmill.get_job_status(slow)',
        '    try:',
        '        wmill.Windmill().wait_job(slow, timeout=0.3)',
        '    except TimeoutError as e:',
        '        out["timeout"] = str(e)',
        '    for _ in range(600):',
        '        if wmill.get_job_status(slow) == "COMPLETED":',
        '            break',
        '        time.sleep(0.05)',
        '    out["slow_after"] = wmill.get_job_status(slow)',
        '    return out',
      ].join('\n'),
    );
    expect(r.success, JSON.stringify(r.result)).toBe(true);
    expect(r.result).toMatchObject({ scheduled: 'WAITING', after_cancel: 'COMPLETED', slow: 'RUNNING', timeout: 'reached timeout', slow_after: 'COMPLETED' });
    expect(r.result.cancel).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.result.canceled_result.error.message).toContain('not needed');
  }, 120_000);

  it('run_flow_async starts a flow (a child of this job only with do_not_track_in_parent=False); wait_job returns its result', async () => {
    const r = await py(
      'f/py/flows',
      [
        'import wmill',
        '',
        'def main():',
        '    free = wmill.run_flow_async("f/py/double", args={"x": 2})',
        '    tracked = wmill.run_flow_async("f/py/double", args={"x": 21}, do_not_track_in_parent=False)',
        '    c = wmill.Windmill()',
        '    return {"ids": [free, tracked], "results": [c.wait_job(free), c.wait_job(tracked)]}',
      ].join('\n'),
    );
    expect(r.result.results).toEqual([4, 42]);
    const [free, tracked] = r.result.ids;
    expect((await srv.api.get(`jobs_u/get/${free}`)).json.parent_job).toBeUndefined();
    expect((await srv.api.get(`jobs_u/get/${tracked}`)).json.parent_job).toBe(r.id);
  }, 120_000);

  it('run_inline_script_preview runs code given as text', async () => {
    const r = await py('f/py/inline', 'import wmill\n\ndef main():\n    return wmill.run_inline_script_preview("def main(n):\\n    return n * 3\\n", "python3", {"n": 7})\n');
    expect(r.result).toBe(21);
  }, 60_000);

  it('cancel_running cancels the other running jobs of the same script', async () => {
    const code = 'import time, wmill\n\ndef main(first: bool):\n    if first:\n        time.sleep(60)\n        return "not canceled"\n    return wmill.cancel_running()\n';
    await srv.api.deploy({ path: 'f/py/singleton', language: 'python3', content: code });
    const first = (await srv.api.post('jobs/run/p/f/py/singleton', { first: true })).text;
    await until('the first run is running', async () => (await srv.api.get(`jobs_u/get/${first}?no_logs=true`)).json.running === true);
    const second = await srv.api.runWait('f/py/singleton', { first: false });
    expect(second.status).toBe(200);
    expect(Object.keys(second.result)).toEqual([first]);
    const done = await srv.api.waitJob(first);
    expect(done.success).toBe(false);
    expect(done.result.error.message).toContain('killed by `cancel_running` method');
  }, 120_000);
});

describe('flows, progress and approvals', () => {
  it('get_resume_urls in a flow step (no workflow): its resume URL resumes the suspended flow without a token', async () => {
    const value = {
      modules: [
        { id: 'ask', value: { type: 'rawscript', language: 'python3', content: 'import wmill\n\ndef main():\n    return wmill.get_resume_urls()\n', input_transforms: {} }, suspend: { required_events: 1, timeout: 600 } },
        { id: 'after', value: { type: 'rawscript', language: 'python3', content: 'def main(r, urls):\n    return {"payload": r, "had_urls": sorted(urls)}\n', input_transforms: { r: { type: 'javascript', expr: 'resume' }, urls: { type: 'javascript', expr: 'results.ask' } } } },
      ],
    };
    expect((await srv.api.post('flows/create', { path: 'f/py/approve', summary: '', value })).status).toBe(201);
    const id = (await srv.api.post('jobs/run/f/f/py/approve', {})).text;
    let ask: string | undefined;
    await until('the flow waits for its approval', async () => {
      const m = (await srv.api.get(`jobs_u/get/${id}?no_logs=true`)).json.flow_status?.modules?.[0];
      ask = m?.job;
      return m?.type === 'WaitingForEvents';
    });
    const urls = (await srv.api.get(`jobs_u/completed/get_result/${ask}`)).json;
    expect(urls.resume).toContain(`/jobs_u/resume/${id}/`);
    const res = await fetch(urls.resume, { method: 'POST', body: JSON.stringify({ ok: 1 }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const done = await srv.api.waitJob(id);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result).toEqual({ payload: { ok: 1 }, had_urls: ['approvalPage', 'cancel', 'resume'] });
  }, 120_000);

  it('set_progress / get_progress: clamped to 0-99, never going back, readable by id and through the API', async () => {
    const r = await py(
      'f/py/progress',
      [
        'import wmill',
        '',
        'def main():',
        '    out = {"before": wmill.get_progress()}',
        '    wmill.set_progress(10)',
        '    wmill.set_progress(60)',
        '    wmill.set_progress(30)',
        '    out["own"] = wmill.get_progress()',
        '    other = wmill.run_script_by_path_async("f/py/add", args={"a": 0, "b": 0})',
        '    wmill.set_progress(150, other)',
        '    out["other"] = wmill.get_progress(other)',
        '    return out',
      ].join('\n'),
    );
    expect(r.result).toEqual({ before: null, own: 60, other: 99 });
    expect((await srv.api.get(`job_metrics/get_progress/${r.id}`)).json).toBe(60);
    expect((await srv.api.get(`jobs_u/getupdate/${r.id}?get_progress=true`)).json.progress).toBe(60);
    const bad = await srv.api.post(`job_metrics/set_progress/${r.id}`, { percent: 'lots' });
    expect(bad.status).toBe(400);
  }, 60_000);

  it('get_root_job_id: the outermost flow job from a step, from a loop iteration, and itself for a plain job', async () => {
    const step = (expr: string) => ({ type: 'rawscript', language: 'python3', content: `import os, wmill\n\ndef main():\n    return {"root": wmill.get_root_job_id(), "env_root": os.environ.get("WM_ROOT_FLOW_JOB_ID"), "flow": os.environ.get("WM_FLOW_JOB_ID"), "step": os.environ.get("WM_FLOW_STEP_ID"), "x": ${expr}}\n`, input_transforms: {} });
    const value = {
      modules: [
        { id: 'top', value: step('0') },
        { id: 'each', value: { type: 'forloopflow', iterator: { type: 'static', value: [1, 2] }, skip_failures: false, modules: [{ id: 'inner', value: step('1') }] } },
      ],
    };
    expect((await srv.api.post('flows/create', { path: 'f/py/rooted', summary: '', value })).status).toBe(201);
    const id = (await srv.api.post('jobs/run/f/f/py/rooted', {})).text;
    const done = await srv.api.waitJob(id);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    const top = (await srv.api.get(`jobs_u/get/${id}`)).json.flow_status.modules[0];
    const topResult = (await srv.api.get(`jobs_u/completed/get_result/${top.job}`)).json;
    expect(topResult).toEqual({ root: id, env_root: id, flow: id, step: 'top', x: 0 });
    for (const it of done.result) {
      expect(it.root).toBe(id);
      expect(it.env_root).toBe(id);
      expect(it.step).toBe('inner');
      expect(it.flow).not.toBe(id); // the iteration's own flow job
    }
    const plain = await py('f/py/plain_root', 'import os, wmill\n\ndef main():\n    return [wmill.get_root_job_id(), os.environ["WM_JOB_ID"]]\n');
    expect(plain.result[0]).toBe(plain.result[1]);
  }, 120_000);

  it('set_flow_user_state / get_flow_user_state share values between the steps of a flow, loop iterations included', async () => {
    const value = {
      modules: [
        { id: 'set', value: { type: 'rawscript', language: 'python3', content: 'import wmill\n\ndef main():\n    wmill.set_flow_user_state("count", 41)\n    wmill.set_flow_user_state("doc", {"a": [1, 2]})\n', input_transforms: {} } },
        { id: 'loop', value: { type: 'forloopflow', iterator: { type: 'static', value: [1] }, skip_failures: false, modules: [{ id: 'read', value: { type: 'rawscript', language: 'python3', content: 'import wmill\n\ndef main():\n    return [wmill.get_flow_user_state("count") + 1, wmill.get_flow_user_state("doc"), wmill.get_flow_user_state("never")]\n', input_transforms: {} } }] } },
      ],
    };
    expect((await srv.api.post('flows/create', { path: 'f/py/states', summary: '', value })).status).toBe(201);
    const done = await srv.api.post('jobs/run_wait_result/f/f/py/states', {});
    expect(done.status, done.text).toBe(200);
    expect(done.json).toEqual([[42, { a: [1, 2] }, null]]);
    // Outside a flow: said, not raised.
    const plain = await py('f/py/no_flow_state', 'import wmill\n\ndef main():\n    wmill.set_flow_user_state("k", 1)\n    return wmill.get_flow_user_state("k")\n');
    expect(plain).toMatchObject({ success: true, result: null });
  }, 120_000);
});

describe('items, state, identity', () => {
  it('get_variable / set_variable create, update and read variables (secrets stay encrypted at rest)', async () => {
    const r = await py(
      'f/py/vars',
      [
        'import wmill',
        '',
        'def main():',
        '    wmill.set_variable("f/py/v", "one")',
        '    a = wmill.get_variable("f/py/v")',
        '    wmill.set_variable("f/py/v", "two")',
        '    b = wmill.get_variable("$var:f/py/v")',
        '    wmill.set_variable("f/py/secret", "s3cret", is_secret=True)',
        '    return [a, b, wmill.get_variable("f/py/secret")]',
      ].join('\n'),
    );
    expect(r.result).toEqual(['one', 'two', 's3cret']);
    const secret = (await srv.api.get('variables/get/f/py/secret?decrypt_secret=false')).json;
    expect(secret.is_secret).toBe(true);
    expect(secret.value).not.toBe('s3cret');
  }, 60_000);

  it('get_resource / set_resource / list_resources', async () => {
    const r = await py(
      'f/py/res',
      [
        'import wmill',
        '',
        'def main():',
        '    wmill.set_resource("f/py/thing", {"a": 1}, "py_thing")',
        '    first = wmill.get_resource("f/py/thing")',
        '    wmill.Windmill().set_resource({"a": 2}, "f/py/thing", "py_thing")',
        '    second = wmill.get_resource("$res:f/py/thing")',
        '    missing = wmill.get_resource("f/py/none", none_if_undefined=True)',
        '    listed = [x["path"] for x in wmill.list_resources("py_thing")]',
        '    return [first, second, missing, listed]',
      ].join('\n'),
    );
    expect(r.result).toEqual([{ a: 1 }, { a: 2 }, null, ['f/py/thing']]);
  }, 60_000);

  it('get_state / set_state keep a value across runs of a script', async () => {
    const code = 'import wmill\n\ndef main():\n    n = (wmill.get_state() or 0) + 1\n    wmill.set_state(n)\n    return [n, wmill.get_state_path()]\n';
    const one = await py('f/py/counter', code);
    const two = await py('f/py/counter', code);
    expect(one.result[0]).toBe(1);
    expect(two.result).toEqual([2, one.result[1]]);
  }, 60_000);

  it('get_workspace, get_version, whoami, username_to_email, create_token (with a user token; a job token may not), get/post', async () => {
    const userToken = await srv.api.addUser('pyuser');
    const r = await py(
      'f/py/who',
      [
        'import wmill',
        '',
        'def main(user_token: str):',
        '    try:',
        '        wmill.Windmill().create_token()',
        '        refused = None',
        '    except wmill.WindmillHTTPError as e:',
        '        refused = [e.status_code, e.body]',
        '    token = wmill.Windmill(token=user_token).create_token()',
        '    return {"ws": wmill.get_workspace(), "version": wmill.get_version(), "me": wmill.whoami()["username"],',
        '            "email": wmill.username_to_email("admin"), "with_token": wmill.Windmill(token=token).whoami()["email"], "refused": refused,',
        '            "raw": wmill.get(f"/w/{wmill.get_workspace()}/flows/exists/f/py/double").json(),',
        '            "parsed": [wmill.parse_resource_syntax("$res:a/b"), wmill.parse_variable_syntax("var://c/d"), wmill.parse_resource_syntax("plain")]}',
      ].join('\n'),
      { user_token: userToken },
    );
    expect(r.result).toEqual({
      ws: 'admins', version: 'CE v1.819.0', me: 'admin', email: 'admin@windmill.dev', with_token: 'pyuser@example.com',
      refused: [403, 'a job token cannot create, list or delete tokens'], raw: true, parsed: ['a/b', 'c/d', null],
    });
  }, 60_000);
});

describe('in preview (the embedded runner\'s loopback API)', () => {
  it('progress, the root job, flow user states outside a flow and the user\'s email work offline too', () => {
    const dir = makeWorkspace({
      'f/py/offline.py': [
        'import os, wmill',
        '',
        'def main():',
        '    wmill.set_progress(20)',
        '    wmill.set_progress(5)',
        '    wmill.set_flow_user_state("k", 1)',
        '    return {"progress": wmill.get_progress(), "root_is_me": wmill.get_root_job_id() == os.environ["WM_JOB_ID"],',
        '            "email": wmill.username_to_email(wmill.whoami()["username"]), "state": wmill.get_flow_user_state("k")}',
      ].join('\n') + '\n',
    });
    try {
      const r = wmill(dir, ['script', 'preview', 'f/py/offline.py', '-s']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ progress: 20, root_is_me: true, email: expect.stringContaining('@'), state: null });
    } finally {
      removeDir(dir);
    }
  }, 60_000);
});
