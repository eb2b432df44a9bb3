import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WmillError } from '../errors.js';
import { color, confirm, err, isInteractive, out, printJson } from '../util/output.js';
import { writeFileAtomic } from '../util/fs.js';

interface SyncFlags {
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
  delete?: boolean;
  keepDeleted?: boolean;
  message?: string;
  check?: boolean;
  planOut?: string;
  plan?: string;
  concurrency?: string;
  oneByOne?: boolean;
  plainSecrets?: boolean;
  workspace?: string;
  baseUrl?: string;
  token?: string;
  configDir?: string;
}

/** A plan file saved by --plan-out, validated when it is read (zod is loaded only then). */
async function savedPlanSchema() {
  const { z } = await import('zod');
  return z
    .object({
      version: z.literal(1),
      direction: z.enum(['push', 'pull']),
      workspace: z.string(),
      remote: z.string(),
      remoteFingerprint: z.string(),
      changes: z.array(z.object({ op: z.enum(['add', 'update', 'delete']), kind: z.string(), path: z.string(), hash: z.string().optional() }).loose()),
    })
    .loose();
}

function common(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'show the plan and stop')
    .option('--json', 'print the plan (and what was applied) as JSON')
    .option('-y, --yes', 'apply without asking')
    .option('--delete', 'allow deletions (required for deletions with --yes or off a terminal)')
    .option('--keep-deleted', 'never delete: drop deletions from the plan')
    .option('--check', 'exit 3 when the plan is not empty (apply nothing)')
    .option('--plan-out <file>', 'write the plan as JSON to <file>')
    .option('--plan <file>', 'apply a plan saved with --plan-out (refused when the remote changed since)')
    .option('--plain-secrets', 'secret values in files are plaintext (pull decrypts them, push has them encrypted); as plainSecrets in wmill.yaml')
    .option('--workspace <name>', 'profile name (or workspace id with --base-url)')
    .option('--base-url <url>', 'server URL (with --workspace and --token)')
    .option('--token <token>', 'API token (or WM_TOKEN)')
    .option('--config-dir <dir>', 'where profiles are stored');
}

/** `wmill sync push|pull`: the plan is the contract. */
export function registerSync(program: Command): void {
  const sync = program.command('sync').description('Push the folder to a workspace, or pull a workspace into the folder, with a plan first');
  common(sync.command('push').description('Deploy local changes to the remote workspace'))
    .option('--message <message>', 'deployment message recorded on each script and flow version')
    .option('--concurrency <n>', 'changes of one kind applied at once (change by change mode)', '8')
    .option('--one-by-one', 'against wmill serve: apply change by change instead of in one transaction')
    .action((opts: SyncFlags) => run('push', opts));
  common(sync.command('pull').description('Bring the remote workspace into the local folder')).action((opts: SyncFlags) => run('pull', opts));
}

async function run(direction: 'push' | 'pull', opts: SyncFlags): Promise<void> {
  const [{ loadConfigFast }, { resolveWorkspace }, { ApiClient }, { prepareSync }, { renderPlan }, { applyPush, applyPushAtomic }] = await Promise.all([
    import('../workspace/config-fast.js'),
    import('../workspace/profiles.js'),
    import('../api/client.js'),
    import('../sync/run.js'),
    import('../sync/plan.js'),
    import('../sync/apply.js'),
  ]);
  const concurrency = opts.concurrency === undefined ? 8 : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WmillError('usage', `--concurrency must be a positive integer (got "${opts.concurrency}")`);
  if (opts.delete && opts.keepDeleted) throw new WmillError('usage', '--delete and --keep-deleted contradict each other; pick one');
  const cfg = loadConfigFast(process.cwd()) ?? (await import('../workspace/config.js')).loadConfig(process.cwd());
  const ws = resolveWorkspace({ workspace: opts.workspace, baseUrl: opts.baseUrl, token: opts.token, configDir: opts.configDir });
  const client = new ApiClient({ remote: ws.remote, token: ws.token, workspace: ws.workspaceId });
  const started = Date.now();
  const { plan, local, remote, options, warnings } = await prepareSync(cfg, client, {
    direction,
    keepDeleted: opts.keepDeleted,
    workspace: ws.workspaceId,
    flags: opts.plainSecrets ? { plainSecrets: true } : {},
  });
  for (const w of warnings) err(`warning: ${w}`);

  if (opts.plan) {
    let saved: { direction: string; workspace: string; remote: string; remoteFingerprint: string; changes: { op: string; kind: string; path: string; hash?: string }[] };
    const { parseJsonText, dataError } = await import('../util/data-file.js');
    let text: string;
    try {
      text = readFileSync(resolve(opts.plan), 'utf8');
    } catch (e) {
      throw new WmillError('usage', `${opts.plan}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass a plan saved by 'wmill sync ${direction} --plan-out'`);
    }
    const parsed = parseJsonText(text);
    if ('error' in parsed) throw dataError(opts.plan, parsed, `pass a plan saved by 'wmill sync ${direction} --plan-out'`);
    const value = parsed.value;
    const res = (await savedPlanSchema()).safeParse(value);
    if (!res.success) {
      const i = res.error.issues[0]!;
      throw new WmillError('usage', `${opts.plan}: not a plan saved by 'wmill sync ${direction} --plan-out' (field ${i.path.join('.') || '(top level)'}: ${i.message})`);
    }
    saved = res.data;
    if (saved.direction !== direction || saved.workspace !== plan.workspace || saved.remote !== plan.remote) {
      throw new WmillError('usage', `${opts.plan}: a ${saved.direction} plan for ${saved.workspace} on ${saved.remote}, not a ${direction} to ${plan.workspace} on ${plan.remote}`);
    }
    if (saved.remoteFingerprint !== plan.remoteFingerprint) {
      throw new WmillError('conflict', `${opts.plan}: the remote workspace changed since the plan was made; make a new plan`);
    }
    const sig = (cs: { op: string; kind: string; path: string; hash?: string }[]) => JSON.stringify(cs.map((c) => [c.op, c.kind, c.path, c.hash ?? null]));
    if (sig(saved.changes) !== sig(plan.changes)) {
      throw new WmillError('conflict', `${opts.plan}: the local files changed since the plan was made; make a new plan`);
    }
  }

  if (opts.planOut) writeFileAtomic(resolve(opts.planOut), `${JSON.stringify(plan, null, 2)}\n`);
  const lines = renderPlan(plan);
  if (!opts.json) {
    for (const l of lines.slice(0, -1)) out(l.startsWith('-') ? color.red(l) : l.startsWith('+') ? color.green(l) : color.yellow(l));
    err(lines[lines.length - 1]!);
  }
  const empty = plan.changes.length === 0;
  if (opts.check || opts.dryRun || empty) {
    if (opts.json) printJson({ ok: true, dryRun: !!opts.dryRun, check: !!opts.check, plan });
    if (opts.check && !empty) process.exitCode = 3;
    return;
  }

  const deletions = plan.counts.delete;
  const interactive = isInteractive() && !opts.yes;
  if (deletions > 0 && !opts.delete && !interactive) {
    throw new WmillError('usage', `${deletions} deletion(s) planned (listed above): pass --delete to apply them, or --keep-deleted to leave them`, { plan });
  }
  if (!opts.yes) {
    if (!isInteractive()) throw new WmillError('usage', `${plan.changes.length} change(s) planned: pass --yes to apply them (not a terminal, so nothing is asked)`, { plan });
    const ok = await confirm(`Apply these ${plan.changes.length} change(s)${deletions ? `, including ${deletions} deletion(s)` : ''} to ${direction === 'push' ? `workspace ${plan.workspace}` : 'the local folder'}?`);
    if (!ok) throw new WmillError('usage', 'aborted; nothing was changed');
  }

  if (direction === 'push') {
    const n = plan.changes.length;
    const show = (c: { op: string; kind: string; path: string }) => `${c.op} ${c.kind} ${c.path}`;
    const list = (cs: { op: string; kind: string; path: string }[]) => cs.map(show).join(', ');
    const applyOpts = {
      message: opts.message ?? (cfg.raw as { message?: string }).message,
      concurrency,
      plainSecrets: options.plainSecrets,
      onNote: (line: string) => err(line),
      onChange: (c: { op: string; kind: string; path: string }, outcome: 'done' | 'failed', e?: string) =>
        err(outcome === 'done' ? `${c.op === 'delete' ? 'deleted' : 'pushed'} ${c.kind} ${c.path}` : `failed ${c.kind} ${c.path}: ${e}`),
    };
    // Our server takes the whole plan in one transaction (all or nothing); a real Windmill, change by change.
    if (remote.source === 'manifest' && !opts.oneByOne) {
      const r = await applyPushAtomic(client, plan, local, applyOpts);
      if (r.outcome === 'nothing') {
        throw new WmillError('failure', `push refused, nothing was applied: ${r.error}`, { applied: [], notApplied: plan.changes });
      }
      if (r.outcome === 'unknown') {
        throw new WmillError(
          'network',
          `the server did not answer the push: either all ${n} change(s) were applied or none, and it could not be asked which (${r.error}); re-run 'wmill sync push' (it converges)`,
          { outcome: 'unknown', changes: plan.changes },
        );
      }
      if (opts.json) printJson({ ok: true, plan, applied: n, mode: 'transaction', requests: r.requests, ms: Date.now() - started });
      else err(`Done: ${n} of ${n} change(s) applied to ${plan.workspace} in one transaction (${Date.now() - started} ms)`);
      return;
    }
    err(
      `applying ${n} change(s) change by change (${opts.oneByOne ? '--one-by-one' : 'this server has no all-or-nothing push'}): a failure leaves what was applied before it in place, and the kinds of items after it are not attempted`,
    );
    const res = await applyPush(client, plan, local, applyOpts);
    if (res.failed.length) {
      throw new WmillError(
        'failure',
        `push stopped: ${res.done.length} of ${n} change(s) applied (${list(res.done) || 'none'}); failed: ${res.failed.map((f) => `${show(f.change)} (${f.error})`).join(', ')}; not applied: ${list(res.notApplied)}; re-run the push to retry`,
        { plan, applied: res.done, failed: res.failed, notApplied: res.notApplied },
      );
    }
    if (opts.json) printJson({ ok: true, plan, applied: res.done.length, mode: 'change-by-change', ms: Date.now() - started });
    else err(`Done: ${res.done.length} of ${n} change(s) applied to ${plan.workspace} (${Date.now() - started} ms)`);
    return;
  }

  const keys = plan.changes.filter((c) => c.op !== 'delete').map((c) => `${c.kind}:${c.path}`);
  const bodies = await remote.bodies(keys);
  const { applyPull } = await import('../sync/pull.js');
  const res = applyPull(cfg, plan.changes, bodies, local);
  const { rehash } = await import('../metadata/generate.js');
  rehash(cfg);
  if (opts.json) printJson({ ok: true, plan, written: res.written, deleted: res.deleted, ms: Date.now() - started });
  else err(`Done: ${plan.changes.length} change(s) applied to the local folder; wmill-lock.yaml updated (${Date.now() - started} ms)`);
}
