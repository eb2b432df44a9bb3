/**
 * `wmill job get|logs|resume|cancel <id>`: look at a job on the server, approve or reject the
 * step a suspended flow or workflow waits on, or cancel a job.
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { out, printJson } from '../util/output.js';
import { remoteClient, remoteOptions, type RemoteFlags } from './remote-options.js';
import { registerJobItems } from './items.js';

const checkId = (id: string) => {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new WmillError('usage', `"${id}" is not a job id (a UUID)`);
  return id;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('Jobs on the server: list, inspect, result, re-run, approve or reject a waiting step, cancel');
  registerJobItems(job);

  remoteOptions(job.command('get').argument('<id>', 'job id').option('--json', 'print the job as JSON').description('Show a job (status, result, flow or workflow state)'))
    .action(async (id: string, flags: RemoteFlags) => {
      const c = await remoteClient(flags);
      const j = await c.json<any>('GET', c.ws(`/jobs_u/get/${checkId(id)}`), { query: { no_logs: true } });
      if (flags.json) return printJson({ ok: true, job: j });
      const status = j.type === 'CompletedJob' ? (j.success ? 'success' : j.canceled ? 'canceled' : 'failure') : j.running ? 'running' : 'queued';
      out(`${j.id}  ${j.job_kind}  ${j.script_path}  ${status}`);
      if (j.type === 'CompletedJob') out(JSON.stringify(j.result, null, 2));
    });

  remoteOptions(job.command('logs').argument('<id>', 'job id').description('Print a job\'s logs'))
    .action(async (id: string, flags: RemoteFlags) => {
      const c = await remoteClient(flags);
      process.stdout.write(await c.text('GET', c.ws(`/jobs_u/get_logs/${checkId(id)}`)));
    });

  remoteOptions(
    job
      .command('resume')
      .argument('<id>', 'the waiting flow or workflow job')
      .option('-d, --data <json>', "payload handed to the workflow (JSON, or '@-' for stdin)")
      .option('--reject', 'reject (disapprove) instead of approving')
      .option('--json', 'print the outcome as JSON')
      .description('Approve (or --reject) the step a suspended flow or workflow waits on'),
  ).action(async (id: string, flags: RemoteFlags & { data?: string; reject?: boolean }) => {
    let payload: unknown = null;
    if (flags.data !== undefined) {
      const text = flags.data === '@-' ? await readStdin() : flags.data;
      try {
        payload = JSON.parse(text);
      } catch (e) {
        throw new WmillError('usage', `-d: not valid JSON (${(e as Error).message})`);
      }
    }
    const c = await remoteClient(flags);
    const msg = await c.text('POST', c.ws(`/jobs/flow/resume/${checkId(id)}`), { body: { payload, approved: !flags.reject } });
    if (flags.json) printJson({ ok: true, id, approved: !flags.reject, message: msg });
    else out(msg);
  });

  remoteOptions(
    job
      .command('cancel')
      .argument('<id>', 'job id')
      .option('--reason <text>', 'why (recorded on the job)')
      .option('--json', 'print the outcome as JSON')
      .description('Cancel a queued, running or waiting job (and what it started)'),
  ).action(async (id: string, flags: RemoteFlags & { reason?: string }) => {
    const c = await remoteClient(flags);
    await c.text('POST', c.ws(`/jobs_u/queue/cancel/${checkId(id)}`), { body: { reason: flags.reason ?? 'canceled with wmill job cancel' } });
    if (flags.json) printJson({ ok: true, id, canceled: true });
    else out(`Canceled ${id}`);
  });
}
