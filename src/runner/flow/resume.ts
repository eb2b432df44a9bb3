/**
 * Approval URLs of suspended flows and workflows (spec/windmill-server.md §2.7, §6.8): a resume,
 * cancel or approval-page URL is signed for (job id, resume id[, approver]) with HMAC-SHA256
 * under the workspace key, so it works without a token and cannot be forged for another job. A
 * resume id is used once.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { ResumeEvent, Store } from '../store.js';
import { isFinal, type JobRecord } from '../types.js';
import { approvalEventFor, approvalResumeId } from '../wac/rounds.js';
import type { ResumeUrls } from './executor.js';

export function resumeSignature(key: string, jobId: string, resumeId: number, approver?: string): string {
  const h = createHmac('sha256', key);
  h.update(Buffer.from(jobId.replace(/-/g, ''), 'hex'));
  const rid = Buffer.alloc(4);
  rid.writeUInt32BE(resumeId >>> 0);
  h.update(rid);
  if (approver) h.update(approver);
  return h.digest('hex');
}

/**
 * Links bound to one workflow approval step (`getApprovalUrls(key)`) are signed under a key
 * derived from the workspace key: they cannot pass for open links (getResumeUrls, which any
 * approval of the job may take), and an open link cannot pass for a step's.
 */
function stepKeyOf(key: string): string {
  return createHmac('sha256', key).update('wmill wac approval step').digest('hex');
}

function urls(baseUrl: string, ws: string, jobId: string, resumeId: number, sig: string, approver?: string): ResumeUrls {
  const q = approver ? `?approver=${encodeURIComponent(approver)}` : '';
  const tail = `${encodeURIComponent(jobId)}/${resumeId}/${sig}${q}`;
  return {
    resume: `${baseUrl}/api/w/${encodeURIComponent(ws)}/jobs_u/resume/${tail}`,
    cancel: `${baseUrl}/api/w/${encodeURIComponent(ws)}/jobs_u/cancel/${tail}`,
    approvalPage: `${baseUrl}/approve/${encodeURIComponent(ws)}/${tail}`,
  };
}

/** Open approval links of a job (getResumeUrls; flow suspend steps): resume, cancel and the approval page. */
export function resumeUrlsFor(baseUrl: string, ws: string, key: string, jobId: string, resumeId = randomInt(0, 2 ** 32 - 1), approver?: string): ResumeUrls {
  return urls(baseUrl, ws, jobId, resumeId, resumeSignature(key, jobId, resumeId, approver), approver);
}

/** Links bound to workflow approval step `stepKey` (getApprovalUrls; the step's resume id, §6.8). */
export function stepApprovalUrlsFor(baseUrl: string, ws: string, key: string, jobId: string, stepKey: string, approver?: string): ResumeUrls {
  const rid = approvalResumeId(stepKey);
  return urls(baseUrl, ws, jobId, rid, resumeSignature(stepKeyOf(key), jobId, rid, approver), approver);
}

/** What a signed link stands for. */
export interface ResumeLink {
  jobId: string;
  resumeId: string;
  signature: string;
  approver?: string;
}

/** Check a link's signature: 'open' (any approval of the job) or 'step' (one workflow approval step). */
export function verifyResumeLink(key: string, a: ResumeLink): { resumeId: number; kind: 'open' | 'step' } {
  const rid = Number(a.resumeId);
  if (!/^[0-9a-f-]{36}$/i.test(a.jobId) || !/^[0-9]+$/.test(a.resumeId) || !Number.isInteger(rid) || rid < 0 || rid >= 2 ** 32) throw new ResumeError(400, 'malformed resume URL');
  const got = Buffer.from(a.signature);
  const same = (sig: string) => {
    const want = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  };
  if (same(resumeSignature(key, a.jobId, rid, a.approver))) return { resumeId: rid, kind: 'open' };
  if (same(resumeSignature(stepKeyOf(key), a.jobId, rid, a.approver))) return { resumeId: rid, kind: 'step' };
  throw new ResumeError(400, 'Invalid signature');
}

/** The workflow approval step a job waits for now, if any. */
export function waitingApproval(job: JobRecord): string | undefined {
  const p = job.wacState?.pending_steps as { mode?: string; keys?: string[] } | undefined;
  return p?.mode === 'approval' ? p.keys?.[0] : undefined;
}

export class ResumeError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Record an approval (approved = true) or a disapproval for a suspended job, after checking the
 * signature. An open link's event waits for the next approval of the job (it may come before the
 * workflow reaches it); a step link is taken only while that step is the one waiting.
 */
export async function recordResume(
  store: Store,
  key: string,
  ws: string,
  a: ResumeLink & { approved: boolean; payload: unknown },
): Promise<JobRecord> {
  const link = verifyResumeLink(key, a);
  let job: JobRecord | undefined;
  // The checks and the record are one transaction on the job's row: of two resumes at once, the
  // second sees the first and is refused, so the job resumes once.
  const ok = await store.addResume(a.jobId, { resumeId: link.resumeId, approved: a.approved, payload: a.payload ?? null, ...(a.approver ? { approver: a.approver } : {}) }, (j, events) => {
    if (!j || j.workspace !== ws) throw new ResumeError(404, `Job ${a.jobId} not found`);
    if (link.kind === 'step') {
      const waiting = waitingApproval(j);
      if (!waiting || approvalResumeId(waiting) !== link.resumeId) {
        throw new ResumeError(400, `this link approves a step of workflow ${j.path} that is not the one waiting${waiting ? ` (it waits for '${waiting}')` : ' (it waits for no approval now)'}; use it when that step is reached`);
      }
    }
    checkResumable(j, events);
    job = j;
  });
  if (!ok) throw new ResumeError(400, 'resume request already sent');
  return job!;
}

/**
 * Refuse a resume the job does not wait for any more (ResumeError): it has ended, or the approval
 * it waits for already has its event (a workflow's approval step: one event; a flow's suspend
 * step: its required_events approvals, or a disapproval). Called inside the store's transaction
 * with the job's events, so concurrent resumes are decided one after the other.
 */
export function checkResumable(job: JobRecord, events: ResumeEvent[]): void {
  if (isFinal(job.status)) throw new ResumeError(400, `Job ${job.id} is already completed`);
  const key = waitingApproval(job);
  if (key && approvalEventFor(job.wacState ?? {}, key, events)) {
    throw new ResumeError(409, `job ${job.id} was already resumed for approval '${key}' (another resume came first)`);
  }
  const st = job.flowState as { waiting?: { key?: string }; consumedResumes?: number } | undefined;
  const susKey = st?.waiting?.key;
  if (typeof susKey === 'string' && susKey.endsWith('/suspend')) {
    const id = susKey.slice(0, -'/suspend'.length).split('/').pop();
    const required = suspendOf(job.flow, id)?.required_events ?? 1;
    const pending = events.slice(st!.consumedResumes ?? 0);
    if (pending.some((e) => !e.approved) || pending.filter((e) => e.approved).length >= required) {
      throw new ResumeError(409, `job ${job.id} was already resumed at step '${id}' (another resume came first)`);
    }
  }
}

/** The `suspend` settings of the flow module `id` (module ids are unique in a flow). */
function suspendOf(flow: unknown, id: string | undefined): { required_events?: number } | undefined {
  if (!id || !flow || typeof flow !== 'object') return undefined;
  const stack: unknown[] = [flow];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    if (o.id === id && o.suspend && typeof o.suspend === 'object') return o.suspend as { required_events?: number };
    for (const x of Object.values(o)) if (x && typeof x === 'object') stack.push(x);
  }
  return undefined;
}
