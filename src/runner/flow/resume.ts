/**
 * Approval URLs of suspended flows and workflows (spec/windmill-server.md §2.7, §6.8): a resume,
 * cancel or approval-page URL is signed for (job id, resume id[, approver]) with HMAC-SHA256
 * under the workspace key, so it works without a token and cannot be forged for another job. A
 * resume id is used once.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store.js';
import { isFinal, type JobRecord } from '../types.js';
import { approvalResumeId } from '../wac/rounds.js';
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
  const job = await store.getJob(a.jobId);
  if (!job || job.workspace !== ws) throw new ResumeError(404, `Job ${a.jobId} not found`);
  if (isFinal(job.status)) throw new ResumeError(400, `Job ${a.jobId} is already completed`);
  if (link.kind === 'step') {
    const waiting = waitingApproval(job);
    if (!waiting || approvalResumeId(waiting) !== link.resumeId) {
      throw new ResumeError(400, `this link approves a step of workflow ${job.path} that is not the one waiting${waiting ? ` (it waits for '${waiting}')` : ' (it waits for no approval now)'}; use it when that step is reached`);
    }
  }
  const ok = await store.addResume(a.jobId, { resumeId: link.resumeId, approved: a.approved, payload: a.payload ?? null, ...(a.approver ? { approver: a.approver } : {}) });
  if (!ok) throw new ResumeError(400, 'resume request already sent');
  return job;
}
