/**
 * The workflow-as-code guide, end to end, as users write it (test/fixtures/wac-guide): one
 * workflow per language uses every section (tasks, parallel, step, sleep, taskScript by path and
 * relative to the workflow, taskFlow, TaskError, approvals through getResumeUrls' resume URL and
 * through the approval page of getApprovalUrls, with a form). Each runs in `wmill script preview`
 * (the workspace's files) and on `wmill serve` (deployed), and a test per section checks its part
 * of the result. The approval links reach the test as the workflow's "notification": lines it
 * appends to the `inbox` file.
 *
 * Task options: a cache_ttl task called twice with the same arguments in one dispatch runs once;
 * `priority` orders the queue (one worker). The approval page itself: its content (escaped),
 * its refusals, and a run driven in headless Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';
import { languageOf, remotePathOf } from '../src/workspace/languages.js';

const FIX = join(REPO, 'test/fixtures/wac-guide');
const ARTIFACTS = join(REPO, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

let tmp: string;
let srv: TestServer;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-wac-guide-'));
  // Jobs on serve run sandboxed: the folder where their tasks leave what the test reads is shown
  // to them, writable (as root without capabilities, so the test's own files stay writable).
  Object.assign(process.env, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });
  cpSync(FIX, join(tmp, 'ws'), { recursive: true });
  srv = await startTestServer();
  await deployWorkspace(srv, join(tmp, 'ws'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Deploy every script and flow of a workspace folder to the server (as a push would). */
async function deployWorkspace(s: TestServer, root: string): Promise<void> {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  for (const file of walk(join(root, 'f'))) {
    const rel = relative(root, file).split('\\').join('/');
    if (rel.endsWith('__flow/flow.yaml')) {
      const doc = parse(readFileSync(file, 'utf8'));
      const r = await s.api.post('flows/create', { path: rel.slice(0, -'__flow/flow.yaml'.length), summary: doc.summary ?? '', value: doc.value, schema: doc.schema });
      if (r.status !== 201) throw new Error(`flow ${rel}: ${r.status} ${r.text}`);
    } else if (/\.(ts|py)$/.test(rel)) {
      await s.api.deploy({ path: remotePathOf(rel), language: languageOf(rel, 'bun') as string, content: readFileSync(file, 'utf8') });
    }
  }
}

interface Proc {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr: () => string;
}

function runWmill(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 200_000);
  return {
    done: new Promise((resolve) => child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })))),
    stderr: () => stderr,
  };
}

/** Wait until the inbox holds the `n`-th notification (1-based); returns it. */
async function nth(inbox: string, n: number, failed: () => string | undefined): Promise<{ kind: string; urls: { resume: string; cancel: string; approvalPage: string } }> {
  for (;;) {
    const lines = existsSync(inbox) ? readFileSync(inbox, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n) return JSON.parse(lines[n - 1]!);
    const why = failed();
    if (why) throw new Error(`the workflow ended before notification #${n}: ${why}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface PageVisit {
  html: string;
  status: number;
}

/** What the test saw while answering the workflow's two approvals. */
interface Answers {
  resumeStatus: number;
  resumeText: string;
  page: PageVisit;
  pageUrl: string;
  approved: PageVisit;
}

/** Answer the guide workflow's approvals: POST the getResumeUrls resume URL, then fill in the approval page. */
async function answer(inbox: string, failed: () => string | undefined): Promise<Answers> {
  const first = await nth(inbox, 1, failed);
  expect(first.kind).toBe('resume');
  const res = await fetch(first.urls.resume, { method: 'POST', body: JSON.stringify({ note: 'from the link' }), headers: { 'content-type': 'application/json' } });
  const resumeText = await res.text();
  const second = await nth(inbox, 2, failed);
  expect(second.kind).toBe('page');
  // The page of a step-bound link works once that step waits: poll until it offers the form.
  let page: PageVisit;
  for (;;) {
    const r = await fetch(second.urls.approvalPage);
    page = { status: r.status, html: await r.text() };
    if (page.html.includes('name="field.comment"')) break;
    const why = failed();
    if (why) throw new Error(`the workflow ended before its approval page offered the form: ${why}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
  const form = new URLSearchParams({ action: 'approve', 'field.comment': 'looks <good>', 'field.level': '3', 'field.urgent': 'on' });
  const r = await fetch(second.urls.approvalPage, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { resumeStatus: res.status, resumeText, page, pageUrl: second.urls.approvalPage, approved: { status: r.status, html: await r.text() } };
}

interface GuideRun {
  ok: boolean;
  result: any;
  answers: Answers;
  path: string;
}

async function runGuide(lang: 'ts' | 'py', host: 'preview' | 'serve'): Promise<GuideRun> {
  const dir = lang === 'ts' ? 'guide_ts' : 'guide_py';
  const file = `f/${dir}/main.${lang}`;
  const inbox = join(tmp, `inbox-${lang}-${host}.jsonl`);
  const args = { n: 3, inbox };
  if (host === 'preview') {
    const p = runWmill(['script', 'preview', file, '-d', JSON.stringify(args), '--json'], join(tmp, 'ws'));
    let ended: string | undefined;
    void p.done.then((r) => (ended = `exit ${r.code}: ${r.stderr.slice(-2000)}`));
    const answers = await answer(inbox, () => ended);
    const r = await p.done;
    const out = JSON.parse(r.stdout || '{}');
    return { ok: r.code === 0 && out.ok, result: out.result ?? r.stderr, answers, path: `f/${dir}/main` };
  }
  const id = (await srv.api.post(`jobs/run/p/f/${dir}/main`, args)).text;
  let ended: string | undefined;
  const done = srv.api.waitJob(id, 180_000).then((j) => ((ended = JSON.stringify(j.result)), j));
  const answers = await answer(inbox, () => ended);
  const j = await done;
  return { ok: j.success === true, result: j.result, answers, path: `f/${dir}/main` };
}

describe.each(['ts', 'py'] as const)('the guide in %s', (lang) => {
  describe.each(['preview', 'serve'] as const)('%s', (host) => {
    let run: GuideRun;
    beforeAll(async () => {
      run = await runGuide(lang, host);
      expect(run.ok, JSON.stringify(run.result)).toBe(true);
    }, 240_000);

    it('tasks run as child jobs and return their results', () => {
      expect(run.result.a).toBe(6);
    });
    it('parallel: Promise.all / asyncio.gather and parallel() with a concurrency', () => {
      expect([run.result.b, run.result.c]).toEqual([12, 14]);
      expect(run.result.many).toEqual([2, 4, 6]);
    });
    it('step(): a value recorded once is the same on every replay', () => {
      expect(run.result.stable).toBe(true);
    });
    it('sleep(): the workflow resumes after the sleep', () => {
      expect(run.result.slept_ms).toBeGreaterThanOrEqual(1000);
    });
    it(`taskScript by path: the ${host === 'preview' ? "workspace's file" : 'deployed script'} runs with the arguments`, () => {
      expect(run.result.extracted).toBe('uu');
    });
    it('taskScript relative to the workflow (./helper)', () => {
      expect(run.result.helped).toEqual({ helped: 103 });
    });
    it('taskFlow: the flow runs and returns its result', () => {
      expect(run.result.piped).toBe(9);
    });
    it('TaskError: a failed task is caught by the workflow', () => {
      expect(run.result.caught).toMatch(/^TaskError: .*boom: x/);
    });
    it('approvals: the resume URL from getResumeUrls resumes the next approval', () => {
      expect(run.answers.resumeStatus).toBe(201);
      expect(run.answers.resumeText).toMatch(/resumed/);
      expect(run.result.first).toEqual({ value: { note: 'from the link' }, approver: 'anonymous', approved: true });
    });
    it('approvals: the approval page shows what waits and takes the form', () => {
      const { page, approved } = run.answers;
      expect(page.status).toBe(200);
      expect(page.html).toContain(`<code>${run.path}</code>`);
      expect(page.html).toContain('approval <code>manager</code>');
      expect(page.html).toContain('Ship &lt;b&gt;it&lt;/b&gt;?');
      expect(page.html).not.toContain('<b>it</b>');
      expect(page.html).toContain('&quot;n&quot;: 3');
      expect(page.html).toMatch(/<button[^>]*value="approve"/);
      expect(page.html).toMatch(/<button[^>]*value="reject"/);
      expect(approved.status).toBe(200);
      expect(approved.html).toContain('Approved');
      expect(run.result.second).toEqual({ value: { comment: 'looks <good>', level: 3, urgent: true }, approver: 'anonymous', approved: true });
    });
  });
});

// ---- task options -----------------------------------------------------------------------------

const CACHE_TS = `import { workflow, task } from "windmill-client";
import { appendFileSync } from "node:fs";
const stamp = task(async (x: number, f: string) => {
  appendFileSync(f, x + "\\n");
  return x * 10;
}, { cache_ttl: 600 });
export const main = workflow(async (f: string) => {
  const [a, b] = await Promise.all([stamp(1, f), stamp(1, f)]);
  const c = await stamp(1, f);
  const d = await stamp(2, f);
  return [a, b, c, d];
});
`;
const CACHE_PY = `import asyncio
from wmill import task, workflow


@task(cache_ttl=600)
async def stamp(x: int, f: str):
    with open(f, "a") as fh:
        fh.write(f"{x}\\n")
    return x * 10


@workflow
async def main(f: str):
    a, b = await asyncio.gather(stamp(1, f), stamp(1, f))
    c = await stamp(1, f)
    d = await stamp(2, f)
    return [a, b, c, d]
`;
const PRIORITY_TS = `import { workflow, task } from "windmill-client";
import { appendFileSync } from "node:fs";
const mark = (p?: number) => task(async (i: number, f: string) => {
  appendFileSync(f, i + "\\n");
  return i;
}, p === undefined ? {} : { priority: p });
const low = mark(1), mid = mark(5), none = mark(), high = mark(10);
export const main = workflow(async (f: string) => {
  return await Promise.all([low(1, f), mid(2, f), none(3, f), high(4, f)]);
});
`;
const PRIORITY_PY = `import asyncio
from wmill import task, workflow


def _mark(i, f):
    with open(f, "a") as fh:
        fh.write(f"{i}\\n")
    return i


@task(priority=1)
async def low(i: int, f: str):
    return _mark(i, f)


@task(priority=5)
async def mid(i: int, f: str):
    return _mark(i, f)


@task
async def none(i: int, f: str):
    return _mark(i, f)


@task(priority=10)
async def high(i: int, f: str):
    return _mark(i, f)


@workflow
async def main(f: str):
    return list(await asyncio.gather(low(1, f), mid(2, f), none(3, f), high(4, f)))
`;

describe('task options', () => {
  let one: TestServer;
  beforeAll(async () => {
    one = await startTestServer({ workers: 1 });
  }, 120_000);
  afterAll(async () => one?.close());

  /** Run `content` (a workflow of one argument `f`) in preview or on the one-worker server. */
  async function runOnce(host: 'preview' | 'serve', lang: 'ts' | 'py', name: string, content: string, f: string): Promise<unknown> {
    const ext = lang === 'ts' ? 'ts' : 'py';
    if (host === 'preview') {
      const ws = join(tmp, `opts-${name}`);
      mkdirSync(join(ws, 'f/o'), { recursive: true });
      writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
      writeFileSync(join(ws, `f/o/${name}.${ext}`), content);
      const r = await runWmill(['script', 'preview', `f/o/${name}.${ext}`, '-d', JSON.stringify({ f }), '-s'], ws).done;
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    }
    await one.api.deploy({ path: `f/o/${name}`, language: lang === 'ts' ? 'bun' : 'python3', content });
    const id = (await one.api.post(`jobs/run/p/f/o/${name}`, { f })).text;
    const j = await one.api.waitJob(id, 120_000);
    expect(j.success, JSON.stringify(j.result)).toBe(true);
    return j.result;
  }

  for (const host of ['preview', 'serve'] as const) {
    for (const lang of ['ts', 'py'] as const) {
      it(`${host} ${lang}: a cache_ttl task called twice with the same arguments in one dispatch runs once`, async () => {
        const f = join(tmp, `cache-${host}-${lang}.txt`);
        writeFileSync(f, '');
        const result = await runOnce(host, lang, `cache_${lang}`, lang === 'ts' ? CACHE_TS : CACHE_PY, f);
        expect(result).toEqual([10, 10, 10, 20]);
        expect(readFileSync(f, 'utf8').trim().split('\n')).toEqual(['1', '2']);
      }, 120_000);

      it(`${host} ${lang}: priority orders the queue (one worker: highest first, no priority last)`, async () => {
        const f = join(tmp, `prio-${host}-${lang}.txt`);
        writeFileSync(f, '');
        const result = await runOnce(host, lang, `prio_${lang}`, lang === 'ts' ? PRIORITY_TS : PRIORITY_PY, f);
        expect(result).toEqual([1, 2, 3, 4]);
        expect(readFileSync(f, 'utf8').trim().split('\n')).toEqual(['4', '2', '1', '3']);
      }, 120_000);
    }
  }
});

// ---- the approval page ------------------------------------------------------------------------

const APPROVE_TS = `import { workflow, step, getApprovalUrls, getResumeUrls, waitForApproval } from "windmill-client";
import { appendFileSync } from "node:fs";
export const main = workflow(async (inbox: string, title: string) => {
  const open = await step("open", () => getResumeUrls());
  const bound = await step("bound", () => getApprovalUrls("boss"));
  await step("notify", () => (appendFileSync(inbox, JSON.stringify({ kind: "links", urls: { open, bound } }) + "\\n"), true));
  const r = await waitForApproval({ key: "boss", timeout: 300, form: { properties: { comment: { type: "string" }, color: { type: "string", enum: ["red", "blue"] } }, required: ["comment"] } });
  return r;
});
`;

describe('the approval page', () => {
  it('refuses a forged link, a link of another job, and a step link before its step waits; escapes what it prints', async () => {
    await srv.api.deploy({ path: 'u/admin/approve_page', language: 'bun', content: APPROVE_TS });
    const inbox = join(tmp, 'inbox-page.jsonl');
    const title = '<script>alert(1)</script>';
    const id = (await srv.api.post('jobs/run/p/u/admin/approve_page', { inbox, title })).text;
    let ended: string | undefined;
    const done = srv.api.waitJob(id, 120_000).then((j) => ((ended = JSON.stringify(j.result)), j));
    const links = (await nth(inbox, 1, () => ended)) as unknown as { urls: { open: Record<string, string>; bound: Record<string, string> } };
    const page = links.urls.bound.approvalPage!;
    // forged signature / another job's id under this signature
    const forged = await fetch(page.replace(/[0-9a-f]{8}$/, '00000000'));
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('Invalid approval link');
    const otherJob = await fetch(page.replace(id, '00000000-0000-0000-0000-000000000000'));
    expect(otherJob.status).toBe(400);
    // wait until the step waits: then the page offers the form; the arguments are escaped
    let html = '';
    for (let i = 0; i < 600 && !html.includes('field.comment'); i++) {
      html = await (await fetch(page)).text();
      if (!html.includes('field.comment')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    const r0 = await fetch(page);
    expect(r0.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r0.headers.get('referrer-policy')).toBe('no-referrer');
    // a required field left empty: the page says so and records nothing
    const empty = await fetch(page, { method: 'POST', body: new URLSearchParams({ action: 'approve', 'field.comment': '' }) });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('comment is required');
    const badEnum = await fetch(page, { method: 'POST', body: new URLSearchParams({ action: 'approve', 'field.comment': 'x', 'field.color': 'green' }) });
    expect(badEnum.status).toBe(400);
    // reject through the open link's page (any approval of the job may take it)
    const rej = await fetch(links.urls.open.approvalPage!, { method: 'POST', body: new URLSearchParams({ action: 'reject', 'field.comment': 'no way' }) });
    expect(rej.status).toBe(200);
    expect(await rej.text()).toContain('Rejected');
    const j = await done;
    expect(j.result).toEqual({ value: { comment: 'no way' }, approver: 'anonymous', approved: false });
    // afterwards the page says the job is over and offers no buttons
    const after = await (await fetch(page)).text();
    expect(after).toContain('already completed');
    expect(after).not.toContain('<button');
  }, 120_000);

  it('headless Chromium: open the link, approve with a form value, the workflow completes with it', async (ctx) => {
    if (!existsSync(CHROMIUM)) return ctx.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser test`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      // on wmill serve (TypeScript) and in preview (Python), the same page
      for (const host of ['serve', 'preview'] as const) {
        const inbox = join(tmp, `inbox-browser-${host}.jsonl`);
        let ended: string | undefined;
        let finish: () => Promise<any>;
        if (host === 'serve') {
          const id = (await srv.api.post('jobs/run/p/u/admin/approve_page', { inbox, title: 'browser' })).text;
          const done = srv.api.waitJob(id, 120_000).then((j) => ((ended = JSON.stringify(j.result)), j));
          finish = async () => (await done).result;
        } else {
          const ws = join(tmp, 'browser-ws');
          mkdirSync(join(ws, 'f/b'), { recursive: true });
          writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
          writeFileSync(
            join(ws, 'f/b/approve.py'),
            `import json\nimport wmill\nfrom wmill import workflow, step, get_approval_urls, wait_for_approval\n\n\ndef _notify(inbox, urls):\n    with open(inbox, "a") as f:\n        f.write(json.dumps({"kind": "links", "urls": urls}) + "\\n")\n    return True\n\n\n@workflow\nasync def main(inbox: str, title: str):\n    bound = await step("bound", lambda: get_approval_urls("boss"))\n    open_ = await step("open", lambda: wmill.get_resume_urls())\n    await step("notify", lambda: _notify(inbox, {"open": open_, "bound": bound}))\n    return await wait_for_approval(key="boss", timeout=300, form={"properties": {"comment": {"type": "string"}, "color": {"type": "string", "enum": ["red", "blue"]}}, "required": ["comment"]})\n`,
          );
          const p = runWmill(['script', 'preview', 'f/b/approve.py', '-d', JSON.stringify({ inbox, title: 'browser' }), '-s'], ws);
          void p.done.then((r) => (ended = `exit ${r.code}: ${r.stderr}`));
          finish = async () => {
            const r = await p.done;
            expect(r.code, r.stderr).toBe(0);
            return JSON.parse(r.stdout);
          };
        }
        const links = (await nth(inbox, 1, () => ended)) as unknown as { urls: { bound: Record<string, string> } };
        const url = links.urls.bound.approvalPage!;
        const page = await browser.newPage();
        // the step-bound page offers the form once the step waits
        for (;;) {
          await page.goto(url);
          if (await page.locator('input[name="field.comment"]').count()) break;
          if (ended) throw new Error(`the workflow ended before its approval page offered the form: ${ended}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        await page.fill('input[name="field.comment"]', `ship it (${host})`);
        await page.selectOption('select[name="field.color"]', 'blue');
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `approval-page-${host}.png`), fullPage: true });
        await page.click('button[value="approve"]');
        await page.waitForSelector('text=Approved');
        await page.screenshot({ path: join(ARTIFACTS, `approval-page-${host}-approved.png`) });
        await page.close();
        expect(await finish()).toEqual({ value: { comment: `ship it (${host})`, color: 'blue' }, approver: 'anonymous', approved: true });
      }
    } finally {
      await browser.close();
    }
  }, 180_000);
});

// ---- approvals: which answer goes to which step --------------------------------------------------

const ROUTING_TS = `import { workflow, task, step, getApprovalUrls, getResumeUrls, waitForApproval } from "windmill-client";
import { appendFileSync, existsSync } from "node:fs";
const gate = task(async (g: string) => {
  while (!existsSync(g)) await new Promise((r) => setTimeout(r, 50));
  return true;
});
export const main = workflow(async (gatefile: string, inbox: string) => {
  const open = await step("open", () => getResumeUrls());
  const a = await step("a_urls", () => getApprovalUrls("a"));
  const b = await step("b_urls", () => getApprovalUrls("b"));
  await step("notify", () => (appendFileSync(inbox, JSON.stringify({ kind: "links", urls: { open, a, b } }) + "\\n"), true));
  await gate(gatefile);
  const first = await waitForApproval({ key: "a", timeout: 300 });
  const second = await waitForApproval({ key: "b", timeout: 300 });
  return { first: first.value, second: second.value };
});
`;
const ROUTING_PY = `import json
import os
import asyncio
import wmill
from wmill import workflow, task, step, get_approval_urls, wait_for_approval


@task
async def gate(g: str):
    while not os.path.exists(g):
        await asyncio.sleep(0.05)
    return True


def _notify(inbox, urls):
    with open(inbox, "a") as f:
        f.write(json.dumps({"kind": "links", "urls": urls}) + "\\n")
    return True


@workflow
async def main(gatefile: str, inbox: str):
    open_ = await step("open", lambda: wmill.get_resume_urls())
    a = await step("a_urls", lambda: get_approval_urls("a"))
    b = await step("b_urls", lambda: get_approval_urls("b"))
    await step("notify", lambda: _notify(inbox, {"open": open_, "a": a, "b": b}))
    await gate(gatefile)
    first = await wait_for_approval(key="a", timeout=300)
    second = await wait_for_approval(key="b", timeout=300)
    return {"first": first["value"], "second": second["value"]}
`;

describe('approvals: an answer goes to the approval it is for', () => {
  for (const [host, lang] of [['serve', 'ts'], ['preview', 'py']] as const) {
    it(`${host} ${lang}: an open link used early is kept for the next approval; a step link only works while its step waits; a link works once`, async () => {
      const gatefile = join(tmp, `gate-${host}`);
      const inbox = join(tmp, `inbox-routing-${host}.jsonl`);
      let ended: string | undefined;
      let finish: () => Promise<any>;
      if (host === 'serve') {
        await srv.api.deploy({ path: 'u/admin/routing', language: 'bun', content: ROUTING_TS });
        const id = (await srv.api.post('jobs/run/p/u/admin/routing', { gatefile, inbox })).text;
        const done = srv.api.waitJob(id, 120_000).then((j) => ((ended = JSON.stringify(j.result)), j));
        finish = async () => {
          const j = await done;
          expect(j.success, JSON.stringify(j.result)).toBe(true);
          return j.result;
        };
      } else {
        const ws = join(tmp, 'routing-ws');
        mkdirSync(join(ws, 'f/r'), { recursive: true });
        writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
        writeFileSync(join(ws, 'f/r/routing.py'), ROUTING_PY);
        const p = runWmill(['script', 'preview', 'f/r/routing.py', '-d', JSON.stringify({ gatefile, inbox }), '-s'], ws);
        void p.done.then((r) => (ended = `exit ${r.code}: ${r.stderr}`));
        finish = async () => {
          const r = await p.done;
          expect(r.code, r.stderr).toBe(0);
          return JSON.parse(r.stdout);
        };
      }
      const { urls } = (await nth(inbox, 1, () => ended)) as unknown as { urls: Record<'open' | 'a' | 'b', Record<string, string>> };
      const post = async (url: string, body: unknown) => {
        const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        return { status: r.status, text: await r.text() };
      };
      // The workflow is in its gate task: no approval waits yet.
      const early = await post(urls.b.resume!, { via: 'b too early' });
      expect(early.status).toBe(400);
      expect(early.text).toMatch(/not the one waiting/);
      expect((await post(urls.open.resume!, { via: 'open' })).status).toBe(201);
      writeFileSync(gatefile, '');
      // 'a' takes the answer sent early through the open link at once; then 'b' waits (its page says so).
      for (;;) {
        const html = await (await fetch(urls.b.approvalPage!)).text();
        if (html.includes('approval <code>b</code>') && html.includes('<button')) break;
        if (ended) throw new Error(`ended: ${ended}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      const late = await post(urls.a.resume!, { via: 'a too late' });
      expect(late.status).toBe(400);
      expect(late.text).toMatch(/it waits for 'b'/);
      const again = await post(urls.open.resume!, { via: 'open again' });
      expect(again.status).toBe(400);
      expect(again.text).toMatch(/already sent/);
      expect((await post(urls.b.resume!, { via: 'b' })).status).toBe(201);
      expect(await finish()).toEqual({ first: { via: 'open' }, second: { via: 'b' } });
    }, 120_000);
  }
});
