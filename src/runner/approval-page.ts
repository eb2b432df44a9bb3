/**
 * The approval page behind a signed approval link (`approvalPage` of getResumeUrls /
 * getApprovalUrls, and of flow suspend steps): `GET /approve/{ws}/{job}/{resume_id}/{signature}`
 * shows what waits (the workflow or flow, its path and arguments, the step, its description and
 * deadline) with approve and reject buttons and the step's form (`waitForApproval({form})`, a
 * JSON schema); the buttons POST the form to the same URL, which records the answer as the
 * link's resume/cancel URL would. Like Windmill's, it needs no login: the signature is the
 * credential, checked on every request.
 *
 * Plain server-rendered HTML, no script, no external resource; everything printed is escaped.
 * Served by `wmill serve` and by preview's loopback API (same code).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { recordResume, ResumeError, verifyResumeLink, waitingApproval, type ResumeLink } from './flow/resume.js';
import type { Store } from './store.js';
import { isFinal, type JobRecord } from './types.js';
import { approvalResumeId } from './wac/rounds.js';

export interface ApprovalPageRequest extends ResumeLink {
  method: string;
  ws: string;
  /** The POSTed form (application/x-www-form-urlencoded). */
  form?: URLSearchParams;
}

export interface ApprovalPageHost {
  store: Store;
  /** The key signing this workspace's links. */
  key: string;
  /** Make the job runnable now that an answer was recorded. */
  wake(jobId: string): Promise<void>;
}

export interface HtmlReply {
  status: number;
  html: string;
}

/** Headers of every page: no caching, no referrer (the URL is a credential), no framing, no script. */
export const APPROVAL_PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The path of an approval page: `/approve/{ws}/{job}/{resume_id}/{signature}`. */
export const APPROVAL_PAGE_PATH = /^\/approve\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/;

/** Longest form body read. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * Serve an approval page request on a Node HTTP server (`wmill serve`, preview's loopback API).
 * `hostFor(ws)` gives the workspace's key and store, or undefined for an unknown workspace.
 */
export async function handleApprovalPage(
  req: IncomingMessage,
  res: ServerResponse,
  m: RegExpExecArray,
  query: URLSearchParams,
  hostFor: (ws: string) => Promise<ApprovalPageHost | undefined>,
): Promise<void> {
  const send = (r: HtmlReply, extra: Record<string, string> = {}) => {
    if (res.headersSent) return;
    res.writeHead(r.status, { ...APPROVAL_PAGE_HEADERS, ...extra });
    res.end(r.html);
  };
  const [, ws, jobId, resumeId, signature] = m as unknown as [string, string, string, string, string];
  if (req.method !== 'GET' && req.method !== 'POST') {
    req.resume();
    return send(page(405, 'Method not allowed', '<p>Open this link in a browser.</p>'), { Allow: 'GET, POST' });
  }
  let form: URLSearchParams | undefined;
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_FORM_BYTES) return send(page(413, 'Too large', '<p>The form is too large.</p>'));
      chunks.push(c as Buffer);
    }
    form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }
  const host = await hostFor(ws);
  if (!host) return send(page(404, 'Not found', '<p>This approval link is not valid here.</p>'));
  const approver = query.get('approver') ?? undefined;
  send(await serveApprovalPage(host, { method: req.method, ws, jobId, resumeId, signature, ...(approver ? { approver } : {}), ...(form ? { form } : {}) }));
}

export async function serveApprovalPage(host: ApprovalPageHost, req: ApprovalPageRequest): Promise<HtmlReply> {
  let link: { resumeId: number; kind: 'open' | 'step' };
  try {
    link = verifyResumeLink(host.key, req);
  } catch (e) {
    return page(400, 'Invalid approval link', `<p>${esc((e as Error).message)}. Ask for a new link.</p>`);
  }
  const job = await host.store.getJob(req.jobId);
  if (!job || job.workspace !== req.ws) return page(404, 'Not found', `<p>Job ${esc(req.jobId)} was not found.</p>`);
  const view = await describe(host.store, job, link);
  if (req.method === 'POST') {
    const action = req.form?.get('action');
    if (action !== 'approve' && action !== 'reject') return page(400, 'Bad request', '<p>Choose approve or reject.</p>');
    if (!view.canAnswer) return render(job, view, 409);
    // a rejection takes what the form holds (nothing is required to say no)
    const parsed = formPayload(view.form, req.form!, action === 'approve');
    if ('error' in parsed) return render(job, view, 400, parsed.error, req.form);
    try {
      await recordResume(host.store, host.key, req.ws, { ...req, approved: action === 'approve', payload: parsed.payload });
    } catch (e) {
      if (e instanceof ResumeError) return render(job, await describe(host.store, job, link), e.status, e.message);
      throw e;
    }
    await host.wake(job.id);
    const what = kindName(job);
    return page(
      200,
      action === 'approve' ? 'Approved' : 'Rejected',
      `<p class="done">${action === 'approve' ? 'Approved' : 'Rejected'}: ${esc(what)} <code>${esc(job.path)}</code> ${view.waiting ? 'continues' : 'takes this answer at its next approval'}.</p>`,
    );
  }
  return render(job, view, 200);
}

interface View {
  /** The step that waits now (its key), or a flow step. */
  waiting?: string;
  /** What the page says about the state. */
  note?: string;
  canAnswer: boolean;
  form?: FormSchema;
  description?: unknown;
  deadline?: string;
}

export interface FormSchema {
  properties: Record<string, Record<string, any>>;
  required: string[];
}

async function describe(store: Store, job: JobRecord, link: { resumeId: number; kind: 'open' | 'step' }): Promise<View> {
  if (isFinal(job.status)) return { canAnswer: false, note: `This ${kindName(job)} is already ${job.status === 'success' ? 'completed' : job.status === 'canceled' ? 'canceled' : 'finished (failed)'}.` };
  const used = (await store.listResumes(job.id)).find((e) => e.resumeId === link.resumeId);
  if (used) return { canAnswer: false, note: `This link was already used: ${used.approved ? 'approved' : 'rejected'}${used.approver ? ` by ${used.approver}` : ''}.` };
  const wac = waitingApproval(job);
  const a = (job.wacState?._approval ?? {}) as Record<string, any>;
  if (wac) {
    if (link.kind === 'step' && approvalResumeId(wac) !== link.resumeId) {
      const known = Object.keys(job.wacState?.completed_steps ?? {}).find((k) => approvalResumeId(k) === link.resumeId);
      return { canAnswer: false, note: `This link is for the approval step${known ? ` '${known}'` : ''}, not the one waiting now ('${wac}').` };
    }
    return { canAnswer: true, waiting: wac, form: formSchema(a.key === wac ? a.form : undefined), description: a.key === wac ? a.description : undefined, deadline: a.key === wac ? a.deadline : undefined };
  }
  const flowWaiting = (job.flowState as { waiting?: { key: string } } | undefined)?.waiting?.key;
  if (flowWaiting) return { canAnswer: link.kind === 'open', waiting: flowWaiting.replace(/\/suspend$/, '') };
  if (link.kind === 'step') return { canAnswer: false, note: 'The workflow is not waiting for this approval now; open the link again once it does.' };
  return { canAnswer: true, note: `The ${kindName(job)} has not reached its approval step yet: your answer is kept for its next approval.` };
}

/**
 * What a job waits for now, for the pages that offer the buttons to signed-in users (the web
 * UI's job page): a workflow's approval step (with its form) or a flow's suspend step.
 */
export function pendingApproval(job: JobRecord): { waiting: string; form?: FormSchema; description?: unknown; deadline?: string } | undefined {
  if (isFinal(job.status)) return undefined;
  const wac = waitingApproval(job);
  if (wac) {
    const a = (job.wacState?._approval ?? {}) as Record<string, any>;
    return a.key === wac ? { waiting: wac, form: formSchema(a.form), description: a.description, deadline: a.deadline } : { waiting: wac };
  }
  const flowWaiting = (job.flowState as { waiting?: { key: string } } | undefined)?.waiting?.key;
  return flowWaiting ? { waiting: flowWaiting.replace(/\/suspend$/, '') } : undefined;
}

function kindName(job: JobRecord): string {
  if (job.kind === 'flow' || job.kind === 'flowpreview') return 'flow';
  return job.wacState ? 'workflow' : 'job';
}

/** The form's JSON schema: `{properties, required}` or `{schema: {...}}` (a flow's resume_form). */
function formSchema(form: unknown): FormSchema | undefined {
  let f = form as Record<string, any> | undefined;
  if (f && typeof f === 'object' && f.schema && typeof f.schema === 'object') f = f.schema;
  if (!f || typeof f !== 'object' || !f.properties || typeof f.properties !== 'object') return undefined;
  const properties: FormSchema['properties'] = {};
  for (const [k, v] of Object.entries(f.properties as Record<string, unknown>)) properties[k] = v && typeof v === 'object' ? (v as Record<string, any>) : {};
  return { properties, required: Array.isArray(f.required) ? f.required.filter((r: unknown) => typeof r === 'string') : [] };
}

/** The payload the form gives (typed by the schema), or what is wrong with it. No form: `{}`. */
export function formPayload(form: FormSchema | undefined, body: URLSearchParams, strict: boolean): { payload: Record<string, unknown> } | { error: string } {
  const payload: Record<string, unknown> = {};
  if (!form) return { payload };
  for (const [name, p] of Object.entries(form.properties)) {
    if (!strict) {
      const one = formPayload({ properties: { [name]: p }, required: [] }, body, true);
      if ('payload' in one) Object.assign(payload, one.payload);
      continue;
    }
    const raw = body.get(`field.${name}`);
    const label = p.title ?? name;
    if (p.type === 'boolean') {
      payload[name] = raw === 'on' || raw === 'true';
      continue;
    }
    if (raw === null || raw === '') {
      if (form.required.includes(name)) return { error: `${label} is required` };
      continue;
    }
    if (p.type === 'number' || p.type === 'integer') {
      const n = Number(raw);
      if (!Number.isFinite(n) || (p.type === 'integer' && !Number.isInteger(n))) return { error: `${label} must be ${p.type === 'integer' ? 'a whole number' : 'a number'}` };
      payload[name] = n;
    } else if (p.type === 'object' || p.type === 'array') {
      try {
        payload[name] = JSON.parse(raw);
      } catch {
        return { error: `${label} must be JSON` };
      }
    } else {
      if (Array.isArray(p.enum) && !p.enum.map(String).includes(raw)) return { error: `${label} must be one of ${p.enum.join(', ')}` };
      payload[name] = raw;
    }
  }
  return { payload };
}

function render(job: JobRecord, view: View, status: number, error?: string, sent?: URLSearchParams): HtmlReply {
  const what = kindName(job);
  const args = JSON.stringify(job.wacState?.input_args ?? job.args ?? {}, null, 2);
  const rows: string[] = [
    `<tr><th>${what === 'flow' ? 'Flow' : 'Script'}</th><td><code>${esc(job.path)}</code></td></tr>`,
    `<tr><th>Job</th><td><code>${esc(job.id)}</code></td></tr>`,
    ...(job.createdBy ? [`<tr><th>Started by</th><td>${esc(job.createdBy)}</td></tr>`] : []),
    ...(view.waiting ? [`<tr><th>Waits for</th><td>${what === 'flow' ? 'step' : 'approval'} <code>${esc(view.waiting)}</code></td></tr>`] : []),
    ...(view.deadline ? [`<tr><th>Until</th><td>${esc(view.deadline)}</td></tr>`] : []),
  ];
  const desc = view.description === undefined ? '' : `<div class="desc">${esc(typeof view.description === 'string' ? view.description : typeof (view.description as any)?.markdown === 'string' ? (view.description as any).markdown : JSON.stringify(view.description))}</div>`;
  const body = [
    desc,
    `<table>${rows.join('')}</table>`,
    `<h2>Arguments</h2><pre>${esc(args.length > 20_000 ? `${args.slice(0, 20_000)}\n…` : args)}</pre>`,
    view.note ? `<p class="note">${esc(view.note)}</p>` : '',
    error ? `<p class="error" role="alert">${esc(error)}</p>` : '',
    view.canAnswer ? answerForm(view.form, sent) : '',
  ].join('\n');
  return page(status, view.waiting ? `Approval requested: ${job.path}` : `Approval: ${job.path}`, body);
}

export function answerForm(form: FormSchema | undefined, sent?: URLSearchParams): string {
  const fields = Object.entries(form?.properties ?? {}).map(([name, p]) => {
    const id = `f-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const field = `field.${name}`;
    const label = `<label for="${esc(id)}">${esc(p.title ?? name)}${form!.required.includes(name) ? ' *' : ''}</label>`;
    const help = typeof p.description === 'string' && p.description ? `<small>${esc(p.description)}</small>` : '';
    const value = sent?.get(field) ?? (p.default === undefined || p.default === null ? '' : typeof p.default === 'object' ? JSON.stringify(p.default) : String(p.default));
    const req = form!.required.includes(name) ? ' required' : '';
    let input: string;
    if (p.type === 'boolean') {
      const on = sent ? sent.get(field) === 'on' : p.default === true;
      input = `<input type="checkbox" id="${esc(id)}" name="${esc(field)}"${on ? ' checked' : ''}>`;
    } else if (Array.isArray(p.enum)) {
      input = `<select id="${esc(id)}" name="${esc(field)}"${req}>${req ? '' : '<option value=""></option>'}${p.enum.map((o: unknown) => `<option${String(o) === value ? ' selected' : ''}>${esc(String(o))}</option>`).join('')}</select>`;
    } else if (p.type === 'object' || p.type === 'array' || p.format === 'textarea') {
      input = `<textarea id="${esc(id)}" name="${esc(field)}" rows="4"${req}>${esc(value)}</textarea>`;
    } else {
      const type = p.type === 'number' || p.type === 'integer' ? `number" step="${p.type === 'integer' ? '1' : 'any'}` : p.format === 'email' ? 'email' : 'text';
      input = `<input type="${type}" id="${esc(id)}" name="${esc(field)}" value="${esc(value)}"${req}>`;
    }
    return `<div class="field">${label}${input}${help}</div>`;
  });
  return `<form method="post">${fields.join('')}<div class="buttons"><button type="submit" name="action" value="approve" class="approve">Approve</button> <button type="submit" name="action" value="reject" class="reject" formnovalidate>Reject</button></div></form>`;
}

function page(status: number, title: string, body: string): HtmlReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.3rem}h2{font-size:1rem;margin-top:1.5rem}code,pre{font-family:ui-monospace,monospace}
pre{background:#f4f5f7;padding:.75rem;overflow:auto;max-height:20rem;border-radius:4px}
table{border-collapse:collapse}th{text-align:left;padding:.2rem 1rem .2rem 0;color:#5b6475;font-weight:600}td{padding:.2rem 0}
.field{margin:.8rem 0}.field label{display:block;font-weight:600}.field small{display:block;color:#5b6475}
input[type=text],input[type=number],input[type=email],select,textarea{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
.buttons{margin-top:1.2rem}button{font:inherit;padding:.5rem 1.2rem;border:0;border-radius:4px;cursor:pointer;color:#fff}
.approve{background:#1f7a3f}.reject{background:#a1262b}.note{color:#5b6475}.error{color:#a1262b;font-weight:600}.done{font-size:1.1rem}
.desc{white-space:pre-wrap;margin-bottom:1rem}
</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
  return { status, html };
}

/** HTML-escape text (element content and quoted attribute values). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
