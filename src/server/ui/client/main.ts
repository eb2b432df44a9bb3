/**
 * The web UI's client bundle (built by scripts/build.mjs into dist/ui/app.js, served as
 * /ui/app.js; never loaded by the CLI). The pages are server-rendered; this adds what needs a
 * browser: CodeMirror (highlighted code, the draft editor, diffs), running from the form with
 * live logs, the draft autosave with its conflict warnings, and the buttons that call the JSON
 * API (with the `token` cookie the API accepts).
 *
 * Its own tsconfig (DOM types): `npx tsc -p src/server/ui/client/tsconfig.json`.
 */
import { EditorView, lineNumbers, highlightActiveLine, keymap, drawSelection, highlightActiveLineGutter } from '@codemirror/view';
import { EditorState, type Extension } from '@codemirror/state';
import { defaultHighlightStyle, syntaxHighlighting, StreamLanguage, indentOnInput, bracketMatching } from '@codemirror/language';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';
import { sql } from '@codemirror/lang-sql';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { powerShell } from '@codemirror/legacy-modes/mode/powershell';
import { MergeView } from '@codemirror/merge';

type Data = Record<string, any>;

const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);
const $$ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) => [...root.querySelectorAll<T>(sel)];

function pageData(): Data {
  const el = document.getElementById('page-data');
  return el ? JSON.parse(el.textContent || '{}') : {};
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Call the JSON API of this workspace (cookie auth). */
async function api(ws: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`/api/w/${encodeURIComponent(ws)}/${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, text || `${res.status} ${res.statusText}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function langExt(language: string | undefined): Extension {
  switch (language) {
    case 'python3':
      return python();
    case 'bun':
    case 'bunnative':
    case 'deno':
    case 'nativets':
    case 'typescript':
      return javascript({ typescript: true });
    case 'postgresql':
    case 'mysql':
    case 'bigquery':
    case 'snowflake':
    case 'mssql':
    case 'duckdb':
    case 'oracledb':
      return sql();
    case 'bash':
      return StreamLanguage.define(shell);
    case 'powershell':
      return StreamLanguage.define(powerShell);
    default:
      return [];
  }
}

const readOnlyExt = (language: string | undefined): Extension[] => [
  lineNumbers(),
  syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
  EditorState.readOnly.of(true),
  EditorView.editable.of(false),
  langExt(language),
];

/** Replace a server-rendered <pre class="code"> with a read-only, highlighted CodeMirror view. */
function highlight(pre: HTMLElement): EditorView {
  const host = document.createElement('div');
  host.className = 'cm-host';
  host.id = pre.id;
  pre.replaceWith(host);
  return new EditorView({ doc: pre.textContent ?? '', extensions: readOnlyExt(pre.dataset.lang), parent: host });
}

function showError(el: HTMLElement | null, message: string) {
  if (!el) return alert(message);
  el.textContent = message;
  el.hidden = !message;
}

// ---------------------------------------------------------------------------------------------
// Run forms and live jobs

function argsOf(form: HTMLFormElement): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const el of $$<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('[data-type]', form)) {
    const name = el.name;
    const t = el.dataset.type;
    if (t === 'boolean') {
      args[name] = (el as HTMLInputElement).checked;
      continue;
    }
    const v = el.value;
    if (v === '') continue;
    if (t === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${name} must be a number`);
      args[name] = n;
    } else if (t === 'json') {
      try {
        args[name] = JSON.parse(v);
      } catch {
        throw new Error(`${name} must be JSON`);
      }
    } else if (t === 'resource') args[name] = `$res:${v}`;
    else args[name] = v;
  }
  return args;
}

// A cancel button inside a live job part (which is replaced as it refreshes): one listener on the document.
document.addEventListener('click', async (ev) => {
  const b = (ev.target as HTMLElement | null)?.closest<HTMLButtonElement>('button.cancel-job');
  if (!b) return;
  b.disabled = true;
  const ws = pageData().ws as string;
  try {
    await api(ws, 'POST', `jobs_u/queue/cancel/${b.dataset.job}`, { reason: 'canceled from the web UI' });
  } catch (e) {
    b.disabled = false;
    alert((e as Error).message);
  }
});

/** Show job `id`'s live part in `target`, refreshed until the job ends. */
async function followJob(ws: string, id: string, target: HTMLElement): Promise<void> {
  for (let delay = 250; ; delay = Math.min(1000, delay + 100)) {
    const res = await fetch(`/w/${encodeURIComponent(ws)}/job/${id}?fragment=1`, { credentials: 'same-origin' });
    if (!res.ok) {
      target.textContent = `cannot read job ${id}: ${res.status}`;
      return;
    }
    const html = await res.text();
    // Keep the scroll position of the logs while they grow.
    const logs = $('pre.logs', target);
    const atBottom = logs ? logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4 : true;
    const open = new Set($$<HTMLDetailsElement>('details[data-step]', target).filter((d) => !d.open).map((d) => d.dataset.step));
    target.innerHTML = html;
    for (const d of $$<HTMLDetailsElement>('details[data-step]', target)) if (open.has(d.dataset.step)) d.open = false;
    const newLogs = $('pre.logs', target);
    if (newLogs && atBottom) newLogs.scrollTop = newLogs.scrollHeight;
    const live = $('.joblive', target);
    if (!live || live.dataset.final === '1') return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

function wireRunForm(d: Data) {
  const form = $<HTMLFormElement>('form.runform');
  if (!form) return;
  const out = $('#run-output')!;
  const err = $('.error', form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(err, '');
    let args: Record<string, unknown>;
    try {
      args = argsOf(form);
    } catch (e) {
      return showError(err, (e as Error).message);
    }
    const btn = $<HTMLButtonElement>('button[type=submit]', form)!;
    btn.disabled = true;
    try {
      const res = await fetch(form.dataset.action!, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
      const text = await res.text();
      if (!res.ok) throw new Error(text);
      out.innerHTML = '';
      await followJob(d.ws, text.trim(), out);
    } catch (e) {
      showError(err, (e as Error).message);
    } finally {
      btn.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Pages

function homePage() {
  const input = $<HTMLInputElement>('#search');
  if (!input) return;
  const filter = () => {
    const q = input.value.trim().toLowerCase();
    for (const sec of $$('section.folder')) {
      let any = false;
      for (const tr of $$('tr.item', sec)) {
        const hit = !q || (tr.dataset.search ?? '').includes(q);
        tr.classList.toggle('hidden', !hit);
        any ||= hit;
      }
      sec.classList.toggle('hidden', !any);
    }
  };
  input.addEventListener('input', filter);
}

function scriptPage(d: Data) {
  const code = $('#code');
  if (code) highlight(code);
  wireRunForm(d);
  const err = $('#history-error');
  const fields = (v: Data) => ({ path: d.path, content: v.content, language: v.language, summary: v.summary ?? '', description: v.description ?? '', schema: v.schema ?? undefined, kind: v.kind ?? 'script', lock: v.lock ?? '' });
  for (const b of $$<HTMLButtonElement>('button.redeploy')) {
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const old = await api(d.ws, 'GET', `scripts/get/h/${b.dataset.hash}`);
        await api(d.ws, 'POST', 'scripts/create', { ...fields(old), parent_hash: d.head, deployment_message: `Redeploy of version ${b.dataset.hash}${old.deployment_msg ? ` (${old.deployment_msg})` : ''}`, skip_draft_deletion: true });
        location.reload();
      } catch (e) {
        showError(err, (e as Error).message);
        b.disabled = false;
      }
    });
  }
  for (const b of $$<HTMLButtonElement>('button.to-draft')) {
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const old = await api(d.ws, 'GET', `scripts/get/h/${b.dataset.hash}`);
        await api(d.ws, 'POST', `drafts/update/script/${d.path}`, { value: { ...fields(old), parent_hash: d.head }, force: true });
        location.href = `/w/${encodeURIComponent(d.ws)}/edit/${d.path}`;
      } catch (e) {
        showError(err, (e as Error).message);
        b.disabled = false;
      }
    });
  }
}

function flowPage(d: Data) {
  wireRunForm(d);
  for (const b of $$<HTMLButtonElement>('button.redeploy-flow')) {
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const old = await api(d.ws, 'GET', `flows/get/v/${b.dataset.version}`);
        await api(d.ws, 'POST', `flows/update/${d.path}`, {
          ...old,
          path: d.path,
          deployment_message: `Redeploy of version ${b.dataset.version}`,
          skip_draft_deletion: true,
        });
        location.reload();
      } catch (e) {
        showError($('#history-error'), (e as Error).message);
        b.disabled = false;
      }
    });
  }
}

function jobPage(d: Data) {
  const out = $('#job-output');
  const live = out && $('.joblive', out);
  if (out && live && live.dataset.final !== '1') void followJob(d.ws, d.id, out);
}

function schedulesPage(d: Data) {
  for (const box of $$<HTMLInputElement>('input.toggle-schedule')) {
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        await api(d.ws, 'POST', `schedules/setenabled/${box.dataset.path}`, { enabled: box.checked });
        location.reload();
      } catch (e) {
        box.checked = !box.checked;
        box.disabled = false;
        showError($('#schedule-error'), (e as Error).message);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The draft editor

const AUTOSAVE_MS = 2000;
const CHECK_MS = 2500;

function editPage(d: Data) {
  const ws: string = d.ws;
  const path: string | null = d.path;
  const deployed: Data | null = d.deployed;
  const template: Data | null = d.template;
  let draft: Data | null = d.draft;
  const start: Data = draft?.value ?? deployed ?? template ?? { content: '', language: ($<HTMLSelectElement>('#new-language')?.value ?? 'bun'), summary: '' };
  let language: string = start.language ?? 'bun';
  /** The version the draft started from (its base), and the server timestamp of our draft as we last saw it. */
  let base: string | null = path ? (draft?.value?.parent_hash ?? deployed?.hash ?? null) : null;
  let lastSync: string | null = draft?.created_at ?? null;
  let saved = JSON.stringify([start.content ?? '', start.summary ?? '']);
  let conflict: null | { kind: 'draft' | 'deployed'; theirs: Data; at?: string; head?: string } = null;
  const state = $('#save-state')!;
  const summary = $<HTMLInputElement>('#summary')!;

  const editor = new EditorView({
    doc: start.content ?? '',
    extensions: [
      lineNumbers(),
      highlightActiveLineGutter(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      highlightActiveLine(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      langExt(language),
    ],
    parent: $('#editor')!,
  });
  (window as any).wmillEditor = editor;
  const langSelect = $<HTMLSelectElement>('#new-language');
  langSelect?.addEventListener('change', () => {
    language = langSelect.value;
  });

  const current = () => JSON.stringify([editor.state.doc.toString(), summary.value]);
  const dirty = () => current() !== saved;
  const value = (): Data => ({
    path,
    summary: summary.value,
    description: (draft?.value ?? deployed ?? template)?.description ?? '',
    content: editor.state.doc.toString(),
    language,
    kind: (draft?.value ?? deployed ?? template)?.kind ?? 'script',
    ...((draft?.value ?? deployed ?? template)?.schema ? { schema: (draft?.value ?? deployed ?? template)!.schema } : {}),
    lock: (draft?.value ?? deployed ?? template)?.lock ?? '',
    parent_hash: base,
  });
  const setContent = (content: string) => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: content } });
  const stamp = (t: string) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

  function showConflict(c: NonNullable<typeof conflict>) {
    conflict = c;
    const box = $('#conflict')!;
    $('#conflict-text')!.textContent =
      c.kind === 'draft'
        ? `Your draft was saved elsewhere (another tab or device) at ${c.at ? stamp(c.at) : 'a later time'}, after you loaded it. Autosave is paused.`
        : `Someone deployed a new version (${c.head}) since your draft's base (${base ?? 'none'}). Deploying now would be refused.`;
    box.hidden = false;
    state.textContent = 'autosave paused (conflict)';
  }
  function clearConflict() {
    conflict = null;
    $('#conflict')!.hidden = true;
    $('#diff-view')!.hidden = true;
  }

  async function save(force = false) {
    if (!path) return;
    const r = await api(ws, 'POST', `drafts/update/script/${path}`, { value: value(), last_sync: lastSync, ...(force ? { force: true } : {}) });
    if (r.status === 'conflict') {
      const theirs = await api(ws, 'GET', `drafts/get_own/script/${path}`);
      return showConflict({ kind: 'draft', theirs: theirs?.value ?? {}, at: r.current_timestamp });
    }
    lastSync = r.current_timestamp;
    draft = { value: value(), created_at: r.current_timestamp };
    saved = current();
    state.textContent = `draft saved ${stamp(r.current_timestamp)}`;
    document.body.dataset.lastSave = r.current_timestamp;
  }

  async function check() {
    if (!path || conflict) return;
    if (dirty()) {
      state.textContent = 'unsaved changes…';
      return save();
    }
    // Saved elsewhere since we loaded or saved?
    const own = await api(ws, 'GET', `drafts/get_own/script/${path}`);
    if (own && (!lastSync || Date.parse(own.created_at) > Date.parse(lastSync))) return showConflict({ kind: 'draft', theirs: own.value, at: own.created_at });
    // Deployed since the draft's base?
    const latest = await api(ws, 'GET', `scripts/get_latest_version/${path}`);
    if (latest && base && latest.script_hash !== base) {
      const head = await api(ws, 'GET', `scripts/get/h/${latest.script_hash}`);
      if (!lastSync && !dirty()) {
        // Nothing of ours yet: just follow the deployed version.
        base = head.hash;
        setContent(head.content);
        saved = current();
        return;
      }
      showConflict({ kind: 'deployed', theirs: head, head: head.hash });
    }
  }

  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await check();
    } catch (e) {
      state.textContent = `autosave failed: ${(e as Error).message}`;
    } finally {
      busy = false;
    }
  };
  setInterval(tick, AUTOSAVE_MS);
  setInterval(() => {
    if (!dirty()) void tick();
  }, CHECK_MS);

  function showMerge(title: string, a: string, b: string) {
    const host = $('#merge')!;
    host.innerHTML = '';
    $('#diff-title')!.textContent = title;
    new MergeView({ a: { doc: a, extensions: readOnlyExt(language) }, b: { doc: b, extensions: readOnlyExt(language) }, parent: host });
    $('#diff-view')!.hidden = false;
  }

  $('#keep-mine')?.addEventListener('click', async () => {
    if (!conflict) return;
    if (conflict.kind === 'deployed') base = conflict.head ?? base;
    clearConflict();
    await save(true).catch((e) => (state.textContent = `save failed: ${(e as Error).message}`));
  });
  $('#take-theirs')?.addEventListener('click', async () => {
    if (!conflict) return;
    const c = conflict;
    clearConflict();
    setContent(c.theirs.content ?? '');
    if (typeof c.theirs.summary === 'string') summary.value = c.theirs.summary;
    if (c.kind === 'draft') {
      base = c.theirs.parent_hash ?? base;
      lastSync = c.at ?? lastSync;
      saved = current();
      state.textContent = `took the draft saved ${c.at ? stamp(c.at) : ''}`;
    } else {
      base = c.head ?? base;
      await save(true).catch((e) => (state.textContent = `save failed: ${(e as Error).message}`));
    }
  });
  $('#see-diff')?.addEventListener('click', () => {
    if (!conflict) return;
    showMerge(conflict.kind === 'draft' ? 'Theirs (left) → yours (right)' : `Deployed ${conflict.head} (left) → yours (right)`, conflict.theirs.content ?? '', editor.state.doc.toString());
  });
  $('#show-diff')?.addEventListener('click', async () => {
    const latest = path ? await api(ws, 'GET', `scripts/get/p/${path}`).catch(() => null) : null;
    showMerge(latest ? `Deployed ${latest.hash} (left) → your draft (right)` : 'Not deployed yet', latest?.content ?? '', editor.state.doc.toString());
  });
  $('#discard')?.addEventListener('click', async () => {
    if (!path) return;
    await api(ws, 'POST', `drafts/update/script/${path}`, { value: null, force: true });
    location.href = deployed ? `/w/${encodeURIComponent(ws)}/script/${path}` : `/w/${encodeURIComponent(ws)}/`;
  });
  $('#deploy')?.addEventListener('click', async () => {
    const err = $('#deploy-error');
    const msg = $<HTMLInputElement>('#deploy-message')!.value.trim();
    if (!msg) return showError(err, 'Write a deployment message first.');
    const target = path ?? $<HTMLInputElement>('#new-path')!.value.trim();
    const v = value();
    const body: Data = { ...v, path: target, deployment_message: msg };
    delete body.parent_hash;
    if (path && deployed && base) body.parent_hash = base;
    try {
      // The arguments' schema of the edited code, as generate-metadata infers it (kept UI keys of the previous one).
      const inferred = await fetch(`/w/${encodeURIComponent(ws)}/ui/schema`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ language: v.language, content: v.content, previous: v.schema ?? null }),
      });
      if (inferred.ok) {
        const r = await inferred.json();
        if (r.schema) body.schema = r.schema;
      }
      await api(ws, 'POST', 'scripts/create', body);
      location.href = `/w/${encodeURIComponent(ws)}/script/${target}`;
    } catch (e) {
      const m = (e as Error).message;
      showError(err, /same parent|Path conflict/.test(m) ? `Someone deployed since your draft's base: ${m}` : m);
    }
  });
}

// ---------------------------------------------------------------------------------------------

function main() {
  const d = pageData();
  switch (d.page) {
    case 'script':
      return scriptPage(d);
    case 'flow':
      return flowPage(d);
    case 'edit':
      return editPage(d);
    case 'job':
      return jobPage(d);
    case 'schedules':
      return schedulesPage(d);
    default:
      return homePage();
  }
}

main();
document.documentElement.dataset.ready = '1';
