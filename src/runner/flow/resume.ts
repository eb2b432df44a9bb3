/**
 * Approval URLs of suspended flows (spec/windmill-server.md §2.7): a resume or cancel URL is
 * signed for (job id, resume id[, approver]) with HMAC-SHA256 under the workspace key, so it
 * works without a token and cannot be forged for another job. A resume id is used once.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store.js';
import { isFinal } from '../types.js';
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

export function resumeUrlsFor(baseUrl: string, ws: string, key: string, jobId: string, resumeId = randomInt(0, 2 ** 32 - 1), approver?: string): ResumeUrls {
  const sig = resumeSignature(key, jobId, resumeId, approver);
  const q = approver ? `?approver=${encodeURIComponent(approver)}` : '';
  return {
    resume: `${baseUrl}/api/w/${ws}/jobs_u/resume/${jobId}/${resumeId}/${sig}${q}`,
    cancel: `${baseUrl}/api/w/${ws}/jobs_u/cancel/${jobId}/${resumeId}/${sig}${q}`,
    approvalPage: `${baseUrl}/approve/${ws}/${jobId}`,
  };
}

export class ResumeError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Record an approval (approved = true) or a disapproval for a suspended job, after checking the signature. */
export async function recordResume(
  store: Store,
  key: string,
  ws: string,
  a: { jobId: string; resumeId: string; signature: string; approver?: string; approved: boolean; payload: unknown },
): Promise<void> {
  const rid = Number(a.resumeId);
  if (!/^[0-9a-f-]{36}$/i.test(a.jobId) || !Number.isInteger(rid) || rid < 0 || rid >= 2 ** 32) throw new ResumeError(400, 'malformed resume URL');
  const want = Buffer.from(resumeSignature(key, a.jobId, rid, a.approver));
  const got = Buffer.from(a.signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new ResumeError(400, 'Invalid signature');
  const job = await store.getJob(a.jobId);
  if (!job || job.workspace !== ws) throw new ResumeError(404, `Job ${a.jobId} not found`);
  if (isFinal(job.status)) throw new ResumeError(400, `Job ${a.jobId} is already completed`);
  const ok = await store.addResume(a.jobId, { resumeId: rid, approved: a.approved, payload: a.payload ?? null, ...(a.approver ? { approver: a.approver } : {}) });
  if (!ok) throw new ResumeError(400, 'resume request already sent');
}
