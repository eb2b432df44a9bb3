/**
 * The pages of the web UI. Each one reads through `ctx.api` (the API's route handlers, as the
 * signed-in user), so it shows exactly what the API would give that user; nothing here queries
 * items directly except through access.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth.js';
import { accessTo } from '../access.js';
import { HttpError, readBody, notFound } from '../http.js';
import { nextTick, parseCron } from '../cron.js';
import { answerForm, formPayload, pendingApproval } from '../../runner/approval-page.js';
import type { FlowValue } from '../../items/flow-schema.js';
import { diffTable, h, jsonScript, raw, when, type Html } from './html.js';
import { resourceTypesOf, runForm, type ArgSchema } from './form.js';
import { flowGraph } from './flow-graph.js';
import type { Api } from './index.js';
import { LANGUAGES, type Language } from '../../workspace/languages.js';
import { TRIGGER_KINDS } from '../../items/triggers.js';

export interface PageCtx {
  req: IncomingMessage;
  method: string;
  ws: string;
  /** The path after `/w/{ws}/`. */
  rest: string;
  query: URLSearchParams;
  p: Principal;
  api: Api;
  asset: string;
  path: string;
}

export type PageOut =
  | { title: string; body: Html; status?: number; script?: boolean; nav?: 'home' | 'jobs' | 'schedules' }
  | { redirect: string }
  | { fragment: Html }
  | { json: unknown }
  | undefined;

const ITEM = '([ufg]/[A-Za-z0-9_-]+/[A-Za-z0-9_/-]+)';

export async function routePage(c: PageCtx): Promise<PageOut> {
  const r = c.rest;
  let m: RegExpExecArray | null;
  if (c.method === 'GET' || c.method === 'HEAD') {
    if (r === '') return home(c);
    if ((m = new RegExp(`^script/${ITEM}$`).exec(r))) return scriptPage(c, m[1]!);
    if ((m = new RegExp(`^script-diff/${ITEM}$`).exec(r))) return scriptDiffPage(c, m[1]!);
    if ((m = new RegExp(`^edit/${ITEM}$`).exec(r))) return editPage(c, m[1]!);
    if (r === 'new') return editPage(c, undefined);
    if ((m = new RegExp(`^draft/([A-Za-z0-9_.@-]+)/([a-z_]+)/${ITEM}$`).exec(r))) return draftView(c, m[1]!, m[2]!, m[3]!);
    if ((m = new RegExp(`^flow/${ITEM}$`).exec(r))) return flowPage(c, m[1]!);
    if ((m = new RegExp(`^flow-diff/${ITEM}$`).exec(r))) return flowDiffPage(c, m[1]!);
    if (r === 'jobs') return jobsPage(c);
    if ((m = /^job\/([0-9a-fA-F-]{36})$/.exec(r))) return c.query.get('fragment') ? { fragment: await jobLive(c, m[1]!) } : jobPage(c, m[1]!);
    if (r === 'schedules') return schedulesPage(c);
    return undefined;
  }
  if (c.method === 'POST' && (m = /^job\/([0-9a-fA-F-]{36})$/.exec(r))) return answerApproval(c, m[1]!);
  if (c.method === 'POST' && r === 'ui/schema') return inferSchema(c);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Home

interface Listed {
  kind: string;
  path: string;
  summary?: string;
  href?: string;
  extra?: string;
}

/** `u/alice`, `f/ops`, `g/devs`: the owner part of a path. */
const folderOf = (path: string) => path.split('/').slice(0, 2).join('/');


async function triggersOf(c: PageCtx): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const k of TRIGGER_KINDS) {
    const route = `${k}_triggers/list`;
    if (!c.api.serves('GET', route)) continue;
    const rows = (await c.api.maybe<any[]>(route)) ?? [];
    for (const t of Array.isArray(rows) ? rows : []) {
      if (typeof t?.path !== 'string') continue;
      const off = t.enabled === false || (typeof t.mode === 'string' && t.mode !== 'enabled');
      const what = k === 'http' && t.route_path ? `${String(t.http_method ?? '').toUpperCase()} /api/r/${t.route_path}` : (t.summary ?? '');
      out.push({ kind: `${k} trigger`, path: t.path, summary: `${what}${off ? ' (disabled)' : ''}${t.error ? ` · ${t.error}` : ''}`, extra: `${t.is_flow ? 'flow' : 'script'} ${t.script_path ?? ''}` });
    }
  }
  return out;
}

async function home(c: PageCtx): Promise<PageOut> {
  const ws = c.ws;
  const q = (c.query.get('q') ?? '').trim().toLowerCase();
  const [scripts, flows, schedules, drafts] = await Promise.all([
    c.api.get<any[]>('scripts/list'),
    c.api.get<any[]>('flows/list'),
    c.api.get<any[]>('schedules/list'),
    c.api.get<any[]>('drafts/list'),
  ]);
  const apps = c.api.serves('GET', 'apps/list') ? ((await c.api.maybe<any[]>('apps/list')) ?? []) : [];
  const items: Listed[] = [
    ...scripts.map((s) => ({ kind: 'script', path: s.path, summary: s.summary, href: `/w/${ws}/script/${s.path}`, extra: s.language })),
    ...flows.map((f) => ({ kind: 'flow', path: f.path, summary: f.summary, href: `/w/${ws}/flow/${f.path}` })),
    ...(Array.isArray(apps) ? apps : []).filter((a) => typeof a?.path === 'string').map((a) => ({ kind: 'app', path: a.path, summary: a.summary })),
    ...schedules.map((s) => ({ kind: 'schedule', path: s.path, summary: s.summary ?? s.schedule, href: `/w/${ws}/schedules#${s.path}`, extra: `${s.enabled ? 'on' : 'off'} · ${s.schedule}` })),
    ...(await triggersOf(c)).map((t) => ({ ...t, href: `/w/${ws}/schedules#${t.path}` })),
  ];
  // Drafts never deployed are listed too (yours).
  const deployed = new Set(scripts.map((s) => s.path));
  for (const d of drafts) if (d.kind === 'script' && d.mine && !deployed.has(d.path)) items.push({ kind: 'draft', path: d.path, summary: 'not deployed yet', href: `/w/${ws}/edit/${d.path}` });
  const shown = q ? items.filter((i) => `${i.path} ${i.summary ?? ''} ${i.kind}`.toLowerCase().includes(q)) : items;
  const groups = new Map<string, Listed[]>();
  for (const i of shown) (groups.get(folderOf(i.path)) ?? groups.set(folderOf(i.path), []).get(folderOf(i.path))!).push(i);
  const keys = [...groups.keys()].sort((a, b) => (a[0] === b[0] ? a.localeCompare(b) : a[0] === 'f' ? -1 : b[0] === 'f' ? 1 : a.localeCompare(b)));
  const counts = (k: string) => items.filter((i) => i.kind === k).length;
  const myDrafts = drafts.filter((d) => d.mine);
  return {
    title: `Workspace ${ws}`,
    nav: 'home',
    script: true,
    body: h`<header class="pagehead"><h1>Workspace ${ws}</h1>
<p class="muted">${counts('script')} scripts · ${counts('flow')} flows${apps.length ? ` · ${counts('app')} apps` : ''} · ${counts('schedule')} schedules${items.some((i) => i.kind.endsWith('trigger')) ? ` · ${items.filter((i) => i.kind.endsWith('trigger')).length} triggers` : ''}</p>
<a class="button" href="/w/${ws}/new">New script</a></header>
<form method="get" class="search" role="search"><input type="search" name="q" id="search" value="${c.query.get('q') ?? ''}" placeholder="Search scripts, flows, schedules…" aria-label="Search" autocomplete="off"><button type="submit">Search</button></form>
${myDrafts.length ? h`<section><h2>Your drafts</h2><ul class="plain">${myDrafts.map((d) => h`<li><a href="/w/${ws}/edit/${d.path}">${d.path}</a> <span class="muted">${d.kind} · saved ${when(d.created_at)}</span></li>`)}</ul></section>` : ''}
<div id="items">
${keys.length ? '' : h`<p class="muted" id="noitems">${q ? 'Nothing matches.' : 'Nothing here yet: deploy with wmill sync push, or create a script.'}</p>`}
${keys.map(
  (k) => h`<section class="folder" data-folder="${k}"><h2>${k.startsWith('f/') ? 'Folder' : k.startsWith('u/') ? 'User' : 'Group'} ${k.slice(2)}</h2>
<table class="items"><tbody>
${groups.get(k)!.sort((a, b) => a.path.localeCompare(b.path)).map(
  (i) => h`<tr class="item" data-search="${`${i.path} ${i.summary ?? ''} ${i.kind}`.toLowerCase()}"><td class="kind"><span class="tag ${i.kind.replace(/ .*/, '')}">${i.kind}</span></td><td class="path">${i.href ? h`<a href="${i.href}">${i.path}</a>` : i.path}</td><td class="desc">${i.summary ?? ''}</td><td class="muted what">${i.extra ?? ''}</td></tr>`,
)}
</tbody></table></section>`,
)}
</div>`,
  };
}

// ---------------------------------------------------------------------------------------------
// Scripts

async function resourcesFor(c: PageCtx, schema: ArgSchema | undefined): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const t of resourceTypesOf(schema)) {
    const rows = (await c.api.maybe<any[]>('resources/list', { resource_type: t })) ?? [];
    out.set(t, rows.map((r) => r.path));
  }
  return out;
}

function codeBlock(content: string, language: string, id?: string): Html {
  return h`<pre class="code" data-lang="${language}"${id ? h` id="${id}"` : ''}><code>${content}</code></pre>`;
}

async function scriptPage(c: PageCtx, path: string): Promise<PageOut> {
  const ws = c.ws;
  const s = await c.api.get<any>(`scripts/get/p/${path}`);
  const [history, drafts, own] = await Promise.all([
    c.api.get<any[]>(`scripts/history/p/${path}`),
    c.api.get<any[]>('drafts/list', { all_users: 'true' }),
    c.api.get<any>(`drafts/get_own/script/${path}`),
  ]);
  const access = await accessTo(c.api.env.db, ws, c.p, path);
  const canWrite = access === 'write';
  const others = drafts.filter((d) => d.kind === 'script' && d.path === path && !d.mine);
  const head = history[0]?.script_hash;
  const schema = s.schema as ArgSchema | undefined;
  const resources = await resourcesFor(c, schema);
  const older = history[1]?.script_hash;
  return {
    title: path,
    nav: 'home',
    script: true,
    body: h`${jsonScript('page-data', { page: 'script', ws, path, hash: s.hash, head, canWrite, language: s.language })}
<header class="pagehead"><h1><span class="tag script">script</span> ${path}</h1>
${s.summary ? h`<p class="summary">${s.summary}</p>` : ''}${s.description ? h`<p class="muted">${s.description}</p>` : ''}
<p class="muted">${s.language} · version <code>${s.hash}</code> by ${s.created_by} at ${when(s.created_at)}${s.archived ? h` · <b>archived</b>` : ''}</p>
<div class="actions">${canWrite ? h`<a class="button" id="edit" href="/w/${ws}/edit/${path}">${own ? 'Edit your draft' : 'Edit'}</a>` : ''}
<a class="button" href="/w/${ws}/jobs?path=${encodeURIComponent(path)}">Runs</a></div></header>
<div class="cols">
<section class="col"><h2>Run</h2>
${runForm(schema, resources, { id: 'run', button: 'Run', action: `/api/w/${ws}/jobs/run/p/${path}`, ...(s.archived ? { disabled: 'this script is archived' } : {}) })}
<div id="run-output" aria-live="polite"></div>
</section>
<section class="col"><h2>Code</h2>${codeBlock(s.content, s.language, 'code')}</section>
</div>
<section id="history"><h2>History</h2>
<form method="get" action="/w/${ws}/script-diff/${path}" class="historyform">
<table class="history"><thead><tr><th title="diff from">A</th><th title="diff to">B</th><th>Version</th><th>Message</th><th>Author</th><th>Deployed</th><th></th></tr></thead><tbody>
${history.map(
  (v, i) => h`<tr data-hash="${v.script_hash}"><td><input type="radio" name="a" value="${v.script_hash}"${i === 1 || (history.length === 1 && i === 0) ? h` checked` : ''} aria-label="diff from ${v.script_hash}"></td>
<td><input type="radio" name="b" value="${v.script_hash}"${i === 0 ? h` checked` : ''} aria-label="diff to ${v.script_hash}"></td>
<td><code>${v.script_hash}</code>${i === 0 ? h` <span class="tag current">current</span>` : ''}</td>
<td class="msg">${v.deployment_msg ?? h`<span class="muted">—</span>`}</td><td>${v.created_by ?? ''}</td><td>${when(v.created_at)}</td>
<td class="rowactions">${
    canWrite && i > 0 ? h`<button type="button" class="redeploy" data-hash="${v.script_hash}">Redeploy</button> ` : ''
  }<a href="/w/${ws}/new?from=${v.script_hash}" class="fork">Fork</a>${
    canWrite ? h` <button type="button" class="to-draft" data-hash="${v.script_hash}">To my draft</button>` : ''
  }</td></tr>`,
)}
</tbody></table>
${history.length > 1 ? h`<button type="submit" id="diff">Diff A → B</button>` : ''}
${older ? '' : ''}
</form>
<p class="error" role="alert" id="history-error" hidden></p>
</section>
<section id="drafts"><h2>Drafts</h2>
${own ? h`<p>Your draft, saved ${when(own.created_at)}: <a href="/w/${ws}/edit/${path}">edit</a> · <a href="/w/${ws}/script-diff/${path}?a=${head ?? ''}&b=draft">diff with the deployed version</a></p>` : h`<p class="muted">You have no draft of this script.</p>`}
${others.length ? h`<ul class="plain">${others.map((d) => h`<li>${d.username}'s draft, saved ${when(d.created_at)}: <a href="/w/${ws}/draft/${d.username}/script/${path}">read (JSON)</a></li>`)}</ul>` : ''}
</section>`,
  };
}

async function scriptDiffPage(c: PageCtx, path: string): Promise<PageOut> {
  const ws = c.ws;
  const a = c.query.get('a') ?? '';
  const b = c.query.get('b') ?? '';
  const history = await c.api.get<any[]>(`scripts/history/p/${path}`);
  const msg = new Map(history.map((v) => [v.script_hash, v.deployment_msg as string | undefined]));
  const load = async (x: string): Promise<{ label: string; v: Record<string, any> }> => {
    if (x === 'draft') {
      const own = await c.api.get<any>(`drafts/get_own/script/${path}`);
      if (!own) throw notFound(`You have no draft of ${path}`);
      return { label: `your draft (saved ${when(own.created_at)})`, v: own.value };
    }
    if (!/^[0-9a-f]{16}$/.test(x)) throw new HttpError(400, `choose two versions to compare (a and b: version hashes, or "draft")`);
    const v = await c.api.get<any>(`scripts/get/h/${x}`);
    if (v.path !== path) throw notFound(`Version ${x} is not a version of ${path}`);
    return { label: `version ${x}${msg.get(x) ? `: ${msg.get(x)}` : ''} (${v.created_by}, ${when(v.created_at)})`, v };
  };
  const [A, B] = await Promise.all([load(a), load(b)]);
  const fields = ['summary', 'description', 'language', 'kind', 'schema', 'lock'].filter((k) => JSON.stringify(A.v[k] ?? null) !== JSON.stringify(B.v[k] ?? null) && !(k === 'lock' && !A.v[k] && !B.v[k]));
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v ?? null, null, 2));
  return {
    title: `Diff of ${path}`,
    nav: 'home',
    body: h`<header class="pagehead"><h1>Diff of <a href="/w/${ws}/script/${path}">${path}</a></h1>
<p><span class="del-label">− ${A.label}</span><br><span class="add-label">+ ${B.label}</span></p></header>
<section><h2>Code</h2>${diffTable(A.v.content ?? '', B.v.content ?? '')}</section>
${fields.map((k) => h`<section><h2>${k}</h2>${diffTable(show(A.v[k]), show(B.v[k]))}</section>`)}`,
  };
}

/** The draft editor of a script (yours), or a new script (optionally forked from a version). */
async function editPage(c: PageCtx, path: string | undefined): Promise<PageOut> {
  const ws = c.ws;
  let deployed: any = null;
  let draft: any = null;
  let template: any = null;
  if (path) {
    if ((await accessTo(c.api.env.db, ws, c.p, path)) !== 'write') {
      // Same answer as the API: not found when not even readable, else not allowed.
      await c.api.get(`scripts/get/p/${path}`);
      throw new HttpError(403, `${c.p.username} cannot edit ${path}`);
    }
    deployed = (await c.api.maybe<any>(`scripts/get/p/${path}`)) ?? null;
    if (deployed?.archived) deployed = null;
    draft = await c.api.get<any>(`drafts/get_own/script/${path}`);
    if (!deployed && !draft) throw notFound(`Script not found at path ${path}`);
  } else {
    const from = c.query.get('from');
    if (from) {
      if (!/^[0-9a-f]{16}$/.test(from)) throw new HttpError(400, 'from must be a version hash');
      template = await c.api.get<any>(`scripts/get/h/${from}`);
    }
  }
  const pick = (v: any) => (v ? { hash: v.hash, path: v.path, content: v.content, language: v.language, summary: v.summary ?? '', description: v.description ?? '', schema: v.schema ?? null, kind: v.kind ?? 'script', lock: v.lock ?? '', created_by: v.created_by, created_at: v.created_at } : null);
  const title = path ? `Edit ${path}` : template ? `Fork of ${template.path}` : 'New script';
  return {
    title,
    nav: 'home',
    script: true,
    body: h`${jsonScript('page-data', { page: 'edit', ws, path: path ?? null, me: c.p.username, deployed: pick(deployed), draft, template: pick(template) })}
<header class="pagehead"><h1>${title}</h1>
${path ? h`<p class="muted"><a href="/w/${ws}/script/${path}">back to the script</a></p>` : ''}</header>
<div class="editor-bar">
${path ? '' : h`<label>Path <input type="text" id="new-path" value="${template ? `u/${c.p.username}/${template.path.split('/').pop()}_fork` : `u/${c.p.username}/`}" size="40"></label>
<label>Language <select id="new-language">${['bun', 'deno', 'nativets', 'python3', 'bash', 'postgresql', 'mysql', 'duckdb', 'powershell'].map((l) => h`<option${(template?.language ?? 'bun') === l ? h` selected` : ''}>${l}</option>`)}</select></label>`}
<span id="save-state" class="muted" aria-live="polite">${draft ? `draft saved ${when(draft.created_at)}` : path ? 'editing the deployed version' : ''}</span>
<span class="grow"></span>
${path ? h`<button type="button" id="show-diff">Diff with deployed</button>` : ''}
</div>
<div id="conflict" class="warning" role="alert" hidden>
<p id="conflict-text"></p>
<button type="button" id="keep-mine">Keep mine</button> <button type="button" id="take-theirs">Take theirs</button> <button type="button" id="see-diff">See the diff</button>
</div>
<div id="editor" class="editor"></div>
<noscript>${codeBlock(draft?.value?.content ?? deployed?.content ?? template?.content ?? '', deployed?.language ?? 'bun')}</noscript>
<div id="diff-view" hidden><h2 id="diff-title">Diff</h2><div id="merge"></div></div>
<section class="deploybox"><h2>Deploy</h2>
<label for="summary">Summary</label><input type="text" id="summary" value="${draft?.value?.summary ?? deployed?.summary ?? template?.summary ?? ''}">
<label for="deploy-message">Deployment message</label><input type="text" id="deploy-message" placeholder="what changed and why" required>
<div class="buttons"><button type="button" class="primary" id="deploy">Deploy</button>${path ? h` <button type="button" id="discard">Discard my draft</button>` : ''}</div>
<p class="error" role="alert" id="deploy-error" hidden></p>
</section>`,
  };
}

async function draftView(c: PageCtx, username: string, kind: string, path: string): Promise<PageOut> {
  const d = await c.api.get<any>(`drafts/get/${kind}/${path}`, { username });
  return {
    title: `${username}'s draft of ${path}`,
    nav: 'home',
    body: h`<header class="pagehead"><h1>${username}'s draft of ${kind} ${path}</h1><p class="muted">saved ${when(d.created_at)} · read-only</p></header>
<pre class="json" id="draft-json">${JSON.stringify(d.value, null, 2)}</pre>`,
  };
}

// ---------------------------------------------------------------------------------------------
// Flows

async function flowPage(c: PageCtx, path: string): Promise<PageOut> {
  const ws = c.ws;
  const f = await c.api.get<any>(`flows/get/${path}`);
  const history = (await c.api.maybe<any[]>(`flows/history/p/${path}`)) ?? [];
  const schema = f.schema as ArgSchema | undefined;
  const canWrite = (await accessTo(c.api.env.db, ws, c.p, path)) === 'write';
  return {
    title: path,
    nav: 'home',
    script: true,
    body: h`${jsonScript('page-data', { page: 'flow', ws, path })}
<header class="pagehead"><h1><span class="tag flow">flow</span> ${path}</h1>
${f.summary ? h`<p class="summary">${f.summary}</p>` : ''}${f.description ? h`<p class="muted">${f.description}</p>` : ''}
<p class="muted">version ${f.version_id} by ${f.edited_by} at ${when(f.edited_at)}</p>
<div class="actions"><a class="button" href="/w/${ws}/jobs?path=${encodeURIComponent(path)}">Runs</a></div></header>
<div class="cols">
<section class="col"><h2>Run</h2>
${runForm(schema, await resourcesFor(c, schema), { id: 'run', button: 'Run flow', action: `/api/w/${ws}/jobs/run/f/${path}`, ...(f.archived ? { disabled: 'this flow is archived' } : {}) })}
<div id="run-output" aria-live="polite"></div></section>
<section class="col"><h2>Graph</h2>${flowGraph(f.value as FlowValue, ws)}</section>
</div>
${history.length ? h`<section id="history"><h2>History</h2><form method="get" action="/w/${ws}/flow-diff/${path}">
<table class="history"><thead><tr><th title="diff from">A</th><th title="diff to">B</th><th>Version</th><th>Message</th><th>Author</th><th>Deployed</th><th></th></tr></thead><tbody>
${history.map(
  (v, i) => h`<tr data-version="${v.id}"><td><input type="radio" name="a" value="${v.id}"${i === 1 || (history.length === 1 && i === 0) ? h` checked` : ''} aria-label="diff from ${v.id}"></td>
<td><input type="radio" name="b" value="${v.id}"${i === 0 ? h` checked` : ''} aria-label="diff to ${v.id}"></td>
<td>${v.id}${i === 0 ? h` <span class="tag current">current</span>` : ''}</td><td class="msg">${v.deployment_msg ?? h`<span class="muted">—</span>`}</td><td>${v.created_by ?? ''}</td><td>${when(v.created_at)}</td>
<td>${canWrite && i > 0 ? h`<button type="button" class="redeploy-flow" data-version="${v.id}">Redeploy</button>` : ''}</td></tr>`,
)}</tbody></table>${history.length > 1 ? h`<button type="submit" id="diff">Diff A → B</button>` : ''}</form>
<p class="error" role="alert" id="history-error" hidden></p></section>` : ''}`,
  };
}

async function flowDiffPage(c: PageCtx, path: string): Promise<PageOut> {
  const ws = c.ws;
  const history = await c.api.get<any[]>(`flows/history/p/${path}`);
  const load = async (x: string | null) => {
    if (!x || !/^[0-9]+$/.test(x)) throw new HttpError(400, 'choose two versions to compare (a and b: flow version ids)');
    const v = await c.api.get<any>(`flows/get/v/${x}`);
    if (v.path !== path) throw notFound(`Version ${x} is not a version of ${path}`);
    const meta = history.find((hv) => String(hv.id) === x);
    return { label: `version ${x}${meta?.deployment_msg ? `: ${meta.deployment_msg}` : ''} (${v.edited_by}, ${when(v.edited_at)})`, v };
  };
  const [A, B] = await Promise.all([load(c.query.get('a')), load(c.query.get('b'))]);
  const show = (v: unknown) => JSON.stringify(v ?? null, null, 2);
  const fields = ['summary', 'description', 'schema'].filter((k) => show(A.v[k]) !== show(B.v[k]));
  return {
    title: `Diff of ${path}`,
    nav: 'home',
    body: h`<header class="pagehead"><h1>Diff of <a href="/w/${ws}/flow/${path}">${path}</a></h1>
<p><span class="del-label">− ${A.label}</span><br><span class="add-label">+ ${B.label}</span></p></header>
<section><h2>Flow</h2>${diffTable(show(A.v.value), show(B.v.value))}</section>
${fields.map((k) => h`<section><h2>${k}</h2>${diffTable(show(A.v[k]), show(B.v[k]))}</section>`)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Jobs

const STATUSES = ['queued', 'running', 'success', 'failure', 'canceled'];
const PER_PAGE = 100;

function pageQuery(q: URLSearchParams, page: number): string {
  const next = new URLSearchParams(q);
  next.set('page', String(page));
  return next.toString();
}

function statusOf(j: any): string {
  if (j.type === 'CompletedJob') return j.canceled ? 'canceled' : j.success ? 'success' : 'failure';
  return j.running ? 'running' : 'queued';
}

async function jobsPage(c: PageCtx): Promise<PageOut> {
  const ws = c.ws;
  const path = c.query.get('path')?.trim() || undefined;
  const status = c.query.get('status') || undefined;
  const user = c.query.get('user')?.trim() || undefined;
  const after = c.query.get('after') || undefined;
  const before = c.query.get('before') || undefined;
  if (status && !STATUSES.includes(status)) throw new HttpError(400, `status must be one of ${STATUSES.join(', ')}`);
  const page = Math.max(1, Math.min(100_000, Number.parseInt(c.query.get('page') ?? '1', 10) || 1));
  const iso = (v: string | undefined, what: string) => {
    if (!v) return undefined;
    const t = Date.parse(v.length === 16 ? `${v}:00Z` : v);
    if (Number.isNaN(t)) throw new HttpError(400, `${what} must be a date and time`);
    return new Date(t).toISOString();
  };
  const jobs = await c.api.get<any[]>('jobs/list', {
    script_path_exact: path,
    status,
    created_by: user,
    created_after: iso(after, 'after'),
    created_before: iso(before, 'before'),
    per_page: String(PER_PAGE),
    page: String(page),
  });
  const steps = c.query.get('steps') === 'on';
  // Filters the API may not know (older builds): applied again here. Steps of flows (jobs with a
  // parent) only when asked for, as Windmill's runs page.
  const shown = jobs.filter((j) => (steps || !j.parent_job) && (!user || j.created_by === user) && (!before || Date.parse(j.created_at) < Date.parse(iso(before, 'before')!)));
  return {
    title: 'Jobs',
    nav: 'jobs',
    body: h`<header class="pagehead"><h1>Jobs</h1></header>
<form method="get" class="filters" id="job-filters">
<label>Path <input type="text" name="path" value="${path ?? ''}" placeholder="f/folder/script"></label>
<label>Status <select name="status"><option value="">any</option>${STATUSES.map((s) => h`<option${s === status ? h` selected` : ''}>${s}</option>`)}</select></label>
<label>User <input type="text" name="user" value="${user ?? ''}" size="10"></label>
<label>After (UTC) <input type="datetime-local" name="after" value="${after ?? ''}"></label>
<label>Before (UTC) <input type="datetime-local" name="before" value="${before ?? ''}"></label>
<label class="check"><span>Flow steps</span><input type="checkbox" name="steps"${steps ? h` checked` : ''}></label>
<button type="submit">Filter</button></form>
<table class="jobs"><thead><tr><th>Status</th><th>Path</th><th>Kind</th><th>By</th><th>Created</th><th>Duration</th></tr></thead><tbody>
${shown.map((j) => {
  const st = statusOf(j);
  return h`<tr class="job" data-status="${st}"><td><span class="badge ${st}">${st}</span></td><td><a href="/w/${ws}/job/${j.id}">${j.script_path}</a></td><td>${j.job_kind}</td><td>${j.created_by}</td><td>${when(j.created_at)}</td><td>${j.duration_ms != null ? `${j.duration_ms} ms` : ''}</td></tr>`;
})}
</tbody></table>${shown.length ? '' : h`<p class="muted">No job matches.</p>`}
<p class="pager">${page > 1 ? h`<a href="?${pageQuery(c.query, page - 1)}" id="newer">← newer</a> ` : ''}${jobs.length === PER_PAGE ? h`<a href="?${pageQuery(c.query, page + 1)}" id="older">older →</a>` : ''}</p>`,
  };
}

function resultView(result: unknown): Html {
  const json = JSON.stringify(result ?? null, null, 2);
  let table: Html | '' = '';
  if (Array.isArray(result) && result.length && result.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    const cols: string[] = [];
    for (const r of result.slice(0, 500)) for (const k of Object.keys(r as object)) if (!cols.includes(k) && cols.length < 50) cols.push(k);
    const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    table = h`<table class="result-table" id="result-table"><thead><tr>${cols.map((k) => h`<th>${k}</th>`)}</tr></thead><tbody>${result
      .slice(0, 500)
      .map((r) => h`<tr>${cols.map((k) => h`<td>${cell((r as Record<string, unknown>)[k])}</td>`)}</tr>`)}</tbody></table>${result.length > 500 ? h`<p class="muted">first 500 of ${result.length} rows</p>` : ''}`;
  }
  return h`${table}<pre class="json" id="result">${json.length > 200_000 ? `${json.slice(0, 200_000)}\n…` : json}</pre>`;
}

/** The live part of a job page (also what the script and flow pages show under Run, polled until the job ends). */
async function jobLive(c: PageCtx, id: string): Promise<Html> {
  const ws = c.ws;
  const j = await c.api.get<any>(`jobs_u/get/${id}`);
  const st = statusOf(j);
  const final = j.type === 'CompletedJob';
  const isFlow = j.job_kind === 'flow' || j.job_kind === 'flowpreview';
  let approval: Html | '' = '';
  if (!final) {
    // The API checked that this user may see the job; its record says what it waits for.
    const rec = await c.api.env.store.getJob(j.id);
    const pending = rec ? pendingApproval(rec) : undefined;
    if (pending) {
      const allowed = c.p.isAdmin || j.created_by === c.p.username;
      approval = h`<section class="approval" id="approval"><h2>Waiting for approval</h2>
<p>${isFlow ? 'Step' : 'Approval'} <code>${pending.waiting}</code> waits${pending.deadline ? ` until ${when(pending.deadline)}` : ''}.</p>
${pending.description !== undefined ? h`<div class="desc">${typeof pending.description === 'string' ? pending.description : JSON.stringify(pending.description)}</div>` : ''}
${allowed ? raw(answerForm(pending.form).replace('<form method="post">', `<form method="post" action="/w/${encodeURIComponent(ws)}/job/${j.id}" class="approval-form">`)) : h`<p class="muted">Only its owner or an admin can answer it here (or anyone with the approval link).</p>`}
</section>`;
    }
  }
  const parts: Html[] = [];
  if (isFlow) {
    parts.push(h`<section><h2>Steps</h2>${flowGraph(j.raw_flow as FlowValue, ws, j.flow_status ?? undefined)}</section>`);
    const stepLogs: Html[] = [];
    for (const m of (j.flow_status?.modules ?? []) as any[]) {
      const jobsOf: string[] = m.flow_jobs?.length ? m.flow_jobs : m.job ? [m.job] : [];
      for (const [k, sub] of jobsOf.entries()) {
        if (!sub || /^0{8}-/.test(sub)) continue;
        const logs = await c.api.maybe<string>(`jobs_u/get_logs/${sub}`);
        stepLogs.push(h`<details class="steplog" data-step="${m.id}" open><summary><span class="badge ${(m.type as string).toLowerCase()}">${m.type}</span> ${m.id}${jobsOf.length > 1 ? ` #${k + 1}` : ''} · <a href="/w/${ws}/job/${sub}">job</a></summary><pre class="logs">${logs ?? ''}</pre></details>`);
      }
    }
    if (stepLogs.length) parts.push(h`<section><h2>Step logs</h2>${stepLogs}</section>`);
  }
  return h`<div class="joblive" data-job="${j.id}" data-final="${final ? '1' : '0'}" data-status="${st}">
<p class="jobhead">${final ? '' : h`<button type="button" class="cancel-job" data-job="${j.id}" id="cancel-job">Cancel</button> `}<span class="badge ${st}" id="job-status">${st}</span> <a href="/w/${ws}/job/${j.id}">${j.id}</a> · ${j.job_kind} ${j.job_kind === 'script' || j.job_kind === 'flow' ? h`<a href="/w/${ws}/${isFlow ? 'flow' : 'script'}/${j.script_path}">${j.script_path}</a>` : h`<code>${j.script_path}</code>`}${j.parent_job ? h` · step of <a href="/w/${ws}/job/${j.parent_job}">${j.parent_job}</a>` : ''} · by ${j.created_by} · ${when(j.created_at)}${final && j.duration_ms != null ? ` · ${j.duration_ms} ms` : ''}</p>
${approval}
${parts}
<section><h2>Logs</h2><pre class="logs" id="logs">${j.logs ?? ''}</pre></section>
${final ? h`<section><h2>Result</h2>${resultView(j.result)}</section>` : ''}
</div>`;
}

async function jobPage(c: PageCtx, id: string): Promise<PageOut> {
  const j = await c.api.get<any>(`jobs_u/get/${id}`, { no_logs: 'true' });
  return {
    title: `Job ${id}`,
    nav: 'jobs',
    script: true,
    body: h`${jsonScript('page-data', { page: 'job', ws: c.ws, id })}
<header class="pagehead"><h1>Job <code>${id}</code></h1></header>
<div id="job-output">${await jobLive(c, id)}</div>
<section><h2>Arguments</h2><pre class="json" id="args">${JSON.stringify(j.args ?? {}, null, 2)}</pre></section>`,
  };
}

async function answerApproval(c: PageCtx, id: string): Promise<PageOut> {
  const form = new URLSearchParams((await readBody(c.req, 64 * 1024)).toString('utf8'));
  const action = form.get('action');
  if (action !== 'approve' && action !== 'reject') throw new HttpError(400, 'Choose approve or reject.');
  await c.api.get(`jobs_u/get/${id}`, { no_logs: 'true' });
  const rec = await c.api.env.store.getJob(id);
  const pending = rec ? pendingApproval(rec) : undefined;
  if (!pending) throw new HttpError(409, `Job ${id} is not waiting for an approval.`);
  const parsed = formPayload(pending.form, form, action === 'approve');
  if ('error' in parsed) throw new HttpError(400, parsed.error);
  await c.api.post(`jobs/flow/resume/${id}`, { approved: action === 'approve', payload: parsed.payload });
  return { redirect: `/w/${encodeURIComponent(c.ws)}/job/${id}` };
}

// ---------------------------------------------------------------------------------------------
// Schedules and triggers

async function schedulesPage(c: PageCtx): Promise<PageOut> {
  const ws = c.ws;
  const schedules = await c.api.get<any[]>('schedules/list');
  const triggers = await triggersOf(c);
  const now = new Date();
  const next = (s: any): string[] => {
    if (!s.enabled) return [];
    try {
      const spec = parseCron(s.schedule);
      const out: string[] = [];
      let t = s.paused_until && Date.parse(s.paused_until) > now.getTime() ? new Date(s.paused_until) : now;
      for (let i = 0; i < 3; i++) {
        t = nextTick(spec, t, s.timezone || 'UTC');
        out.push(when(t));
      }
      return out;
    } catch (e) {
      return [`invalid: ${(e as Error).message}`];
    }
  };
  const scope = new Map<string, boolean>();
  for (const s of schedules) scope.set(s.path, (await accessTo(c.api.env.db, ws, c.p, s.path)) === 'write');
  return {
    title: 'Schedules and triggers',
    nav: 'schedules',
    script: true,
    body: h`${jsonScript('page-data', { page: 'schedules', ws })}
<header class="pagehead"><h1>Schedules</h1></header>
<table class="schedules"><thead><tr><th>Path</th><th>Runs</th><th>Cron</th><th>Timezone</th><th>Next runs</th><th>Enabled</th></tr></thead><tbody>
${schedules.map(
  (s) => h`<tr id="${s.path}" data-path="${s.path}"><td><b>${s.path}</b>${s.summary ? h`<br><span class="muted">${s.summary}</span>` : ''}</td>
<td>${s.is_flow ? 'flow' : 'script'} <a href="/w/${ws}/${s.is_flow ? 'flow' : 'script'}/${s.script_path}">${s.script_path}</a></td>
<td><code>${s.schedule}</code></td><td>${s.timezone ?? 'UTC'}</td>
<td class="next">${next(s).map((t) => h`<div>${t}</div>`)}${s.enabled ? '' : h`<span class="muted">disabled</span>`}</td>
<td><label class="switch"><input type="checkbox" class="toggle-schedule" data-path="${s.path}"${s.enabled ? h` checked` : ''}${scope.get(s.path) ? '' : h` disabled title="read-only for you"`}> <span>${s.enabled ? 'on' : 'off'}</span></label></td></tr>`,
)}
</tbody></table>${schedules.length ? '' : h`<p class="muted">No schedule.</p>`}
<p class="error" role="alert" id="schedule-error" hidden></p>
<h1>Triggers</h1>
${triggers.length ? h`<table class="triggers"><thead><tr><th>Kind</th><th>Path</th><th>Runs</th><th>Details</th></tr></thead><tbody>${triggers.map((t) => h`<tr id="${t.path}"><td>${t.kind}</td><td>${t.path}</td><td>${t.extra ?? ''}</td><td>${t.summary ?? ''}</td></tr>`)}</tbody></table>` : h`<p class="muted">No trigger${TRIGGER_KINDS.some((k) => c.api.serves('GET', `${k}_triggers/list`)) ? '' : ' (this server does not serve triggers yet)'}.</p>`}`,
  };
}

// ---------------------------------------------------------------------------------------------
// The schema of edited code (what generate-metadata would infer), for deploys from the editor

async function inferSchema(c: PageCtx): Promise<PageOut> {
  let body: { language?: unknown; content?: unknown; previous?: unknown };
  try {
    body = JSON.parse((await readBody(c.req, 4 * 1024 * 1024)).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body must be JSON: {language, content, previous?}');
  }
  if (typeof body.content !== 'string' || typeof body.language !== 'string' || !(LANGUAGES as readonly string[]).includes(body.language)) {
    throw new HttpError(400, 'body must be {language, content, previous?} with a known language');
  }
  const language = body.language as Language;
  const { canInferSchema, parseScriptQuick } = await import('../../metadata/parsers/index.js');
  if (!canInferSchema(language)) return { json: { schema: body.previous ?? null, inferred: false } };
  const parsed = await parseScriptQuick({ id: 'edited', language, code: body.content });
  if (!parsed) return { json: { schema: body.previous ?? null, inferred: false } };
  const { defaultSchema, mergeSchema } = await import('../../metadata/schema.js');
  const prev = body.previous && typeof body.previous === 'object' ? (body.previous as Record<string, any>) : defaultSchema();
  const out = mergeSchema(language, parsed, prev);
  return { json: { schema: out.invalid ? (body.previous ?? null) : out.schema, inferred: !out.invalid, ...(parsed.type === 'Invalid' ? { error: parsed.error } : {}) } };
}
