import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WmillError } from '../errors.js';
import { color, confirm, debug, err, isInteractive, out, printJson, progress, progressEnd } from '../util/output.js';
import type { Language } from '../workspace/languages.js';
import { writeFileAtomic } from '../util/fs.js';

interface SyncFlags {
  dryRun?: boolean;
  json?: boolean;
  jsonOutput?: boolean;
  yes?: boolean;
  delete?: boolean;
  keepDeleted?: boolean;
  message?: string;
  check?: boolean;
  planOut?: string;
  plan?: string;
  concurrency?: string;
  parallel?: string;
  oneByOne?: boolean;
  plainSecrets?: boolean;
  skipVariables?: boolean;
  skipSecrets?: boolean;
  includeSecrets?: boolean;
  skipResources?: boolean;
  skipResourceTypes?: boolean;
  skipScripts?: boolean;
  skipFlows?: boolean;
  skipApps?: boolean;
  skipFolders?: boolean;
  skipWorkspaceDependencies?: boolean;
  includeSchedules?: boolean;
  includeTriggers?: boolean;
  includeUsers?: boolean;
  includeGroups?: boolean;
  includeSettings?: boolean;
  includeKey?: boolean;
  skipReencryptOnKeyChange?: boolean;
  skipBranchValidation?: boolean;
  includes?: string;
  excludes?: string;
  extraIncludes?: string;
  repository?: string;
  promotion?: string;
  branch?: string;
  lint?: boolean;
  locksRequired?: boolean;
  autoMetadata?: boolean;
  failConflicts?: boolean;
  acceptOverridingPermissionedAsWithSelf?: boolean;
  force?: boolean;
  showDiffs?: boolean;
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

/** The options of the reference CLI's `sync push` and `sync pull` (spec/real-cli-help.txt), with its meanings, and ours. */
function common(cmd: Command, direction: 'push' | 'pull'): Command {
  const to = direction === 'push' ? 'pushed' : 'pulled';
  return cmd
    .option('-y, --yes', `${direction} without asking`)
    .option('--dry-run', 'show the plan and stop')
    .option('--plain-secrets', `secret values in files are plaintext (${direction === 'pull' ? 'pulled decrypted' : 'pushed to be encrypted by the server'}); as plainSecrets in wmill.yaml`)
    .option('--json', direction === 'pull' ? 'write new metadata files as JSON instead of YAML (existing files keep their format)' : 'JSON metadata files (read either way; accepted for the reference CLI\'s scripts)')
    .option('--json-output', 'print the plan and what was applied as JSON on stdout (our machine-readable report)')
    .option('--skip-variables', 'skip variables (secrets included)')
    .option('--skip-secrets', 'skip secret variables only (the default: skipSecrets is true unless wmill.yaml says otherwise)')
    .option('--include-secrets', 'include secret variables (overrides skipSecrets in wmill.yaml)')
    .option('--skip-resources', 'skip resources')
    .option('--skip-resource-types', 'skip resource types')
    .option('--skip-scripts', 'skip scripts')
    .option('--skip-flows', 'skip flows')
    .option('--skip-apps', 'skip apps (not synced by this version)')
    .option('--skip-folders', 'skip folders')
    .option('--skip-workspace-dependencies', 'skip workspace dependencies (not synced by this version)')
    .option('--include-schedules', 'include schedules')
    .option('--include-triggers', 'include triggers')
    .option('--include-users', 'include users (not synced by this version: warns)')
    .option('--include-groups', 'include groups (not synced by this version: warns)')
    .option('--include-settings', 'include workspace settings (not synced by this version: warns)')
    .option('--include-key', 'include the workspace encryption key (not synced by this version: warns)')
    .option('--keep-deleted', `never delete: items gone ${direction === 'push' ? 'from the folder stay on the server' : 'from the server stay in the folder'}`)
    .option('--delete', 'allow deletions (required for deletions with --yes or off a terminal)')
    .option('--skip-branch-validation', 'no warning when the git branch matches no wmill.yaml workspaces entry')
    .option('-i, --includes <patterns>', 'comma-separated globs of the files to take into account (replace wmill.yaml includes)')
    .option('-e, --excludes <patterns>', 'comma-separated globs of the files to leave out (replace wmill.yaml excludes)')
    .option('--extra-includes <patterns>', 'comma-separated globs a file must also match (replace wmill.yaml extraIncludes)')
    .option('--repository <repo>', 'git-sync repository resource (accepted; this version has no git-sync settings)')
    .option('--promotion <branch>', 'apply the promotionOverrides of the workspaces entry for <branch> instead of the current entry\'s overrides')
    .option('--branch, --env <branch>', '[deprecated: use --workspace] the git branch whose workspaces entry applies')
    .option('--fail-conflicts', 'refuse (exit 1, nothing applied) when an item changed on both sides since this folder last synced with the workspace')
    .option('--check', 'exit 3 when the plan is not empty (apply nothing)')
    .option('--plan-out <file>', 'write the plan as JSON to <file>')
    .option('--plan <file>', 'apply a plan saved with --plan-out (refused when the remote changed since)');
}

/** `wmill sync push|pull`: the plan is the contract. */
export function registerSync(program: Command): void {
  const sync = program.command('sync').description('Push the folder to a workspace, or pull a workspace into the folder, with a plan first');
  common(sync.command('push').description('Deploy local changes to the remote workspace'), 'push')
    .option('--message <message>', 'deployment message recorded on each script and flow version')
    .option('--parallel <number>', 'changes applied at once (change by change mode)')
    .option('--concurrency <n>', 'same as --parallel (default 8)')
    .option('--lint', 'refuse the push when a file it reads is invalid (instead of skipping it with a warning)')
    .option('--locks-required', 'refuse the push when a script that needs a lock (it has external imports) has none')
    .option('--auto-metadata', 'regenerate stale metadata (schemas, locks, wmill-lock.yaml) before pushing')
    .option('--skip-reencrypt-on-key-change', 'with --include-key (accepted; the key is not synced by this version)')
    .option('--accept-overriding-permissioned-as-with-self', 'accepted for the reference CLI\'s scripts (items are deployed as the token\'s user)')
    .option('--one-by-one', 'against wmill serve: apply change by change instead of in one transaction')
    .action((opts: SyncFlags) => run('push', opts));
  common(sync.command('pull').description('Bring the remote workspace into the local folder'), 'pull')
    .option('--force', 'overwrite files with uncommitted changes (refused otherwise)')
    .action((opts: SyncFlags) => run('pull', opts));
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));

const NOT_SYNCED: [keyof SyncFlags, string][] = [
  ['includeUsers', 'users'],
  ['includeGroups', 'groups'],
  ['includeSettings', 'workspace settings'],
  ['includeKey', 'the encryption key'],
];

async function run(direction: 'push' | 'pull', opts: SyncFlags): Promise<void> {
  const [{ loadConfigFast, configFrom }, { resolveTarget }, { ApiClient }, { prepareSync }, { renderPlan }, { applyPush, applyPushAtomic }, ws_] = await Promise.all([
    import('../workspace/config-fast.js'),
    import('../workspace/target.js'),
    import('../api/client.js'),
    import('../sync/run.js'),
    import('../sync/plan.js'),
    import('../sync/apply.js'),
    import('../workspace/workspaces.js'),
  ]);
  const jsonOut = !!opts.jsonOutput;
  const parallelFlag = opts.parallel ?? opts.concurrency;
  if (opts.parallel !== undefined && opts.concurrency !== undefined && opts.parallel !== opts.concurrency) throw new WmillError('usage', '--parallel and --concurrency are the same option; give one');
  if (opts.delete && opts.keepDeleted) throw new WmillError('usage', '--delete and --keep-deleted contradict each other; pick one');
  if (opts.skipSecrets && opts.includeSecrets) throw new WmillError('usage', '--skip-secrets and --include-secrets contradict each other; pick one');
  const cfg0 = loadConfigFast(process.cwd()) ?? (await import('../workspace/config.js')).loadConfig(process.cwd());
  if (opts.branch) err(`warning: --branch/--env is deprecated: use --workspace <entry> (the wmill.yaml workspaces entry for branch '${opts.branch}' is used)`);
  const raw = cfg0.raw as Record<string, unknown>;
  const target = await resolveTarget(
    { workspace: opts.workspace, baseUrl: opts.baseUrl, token: opts.token, configDir: opts.configDir },
    { raw, file: cfg0.file ?? undefined, branch: opts.branch },
  );
  const ws = target.ws;
  for (const w of target.warnings) err(`warning: ${w}`);
  if (ws.note) err(ws.note);
  debug(`workspace ${ws.workspaceId} on ${ws.remote} (from ${ws.source}${ws.entry ? `, wmill.yaml entry '${ws.entry}'` : ''})`);
  // The options in effect: wmill.yaml top level ← the entry's overrides (or promotionOverrides) ← flags.
  const entryName = opts.branch ? ws_.entryForBranch(target.entries, opts.branch)?.[0] : ws.entry;
  const eff = ws_.effectiveOptions(raw, target.entries, entryName, opts.promotion);
  if (opts.promotion && !eff.applied) err(`warning: --promotion ${opts.promotion}: no wmill.yaml workspaces entry for that branch has promotionOverrides or overrides; the top-level options apply`);
  if (eff.applied) err(`Applied ${eff.applied}`);
  const effective = { ...eff.options };
  if (list(opts.includes)) effective.includes = list(opts.includes);
  if (list(opts.excludes)) effective.excludes = list(opts.excludes);
  if (list(opts.extraIncludes)) effective.extraIncludes = list(opts.extraIncludes);
  const cfg = configFrom(cfg0.root, cfg0.file, effective as typeof cfg0.raw);
  if (target.entries.length && target.branch && !ws_.entryForBranch(target.entries, target.branch) && !opts.skipBranchValidation && !opts.workspace) {
    err(`warning: the current git branch '${target.branch}' matches no workspaces entry in wmill.yaml (entries: ${target.entries.map(([n, e]) => (e.gitBranch && e.gitBranch !== n ? `${n} (gitBranch: ${e.gitBranch})` : n)).join(', ')}); add one, or pass --skip-branch-validation`);
  }
  const optNum = (v: unknown) => (typeof v === 'number' ? String(v) : undefined);
  const parallelText = parallelFlag ?? optNum(effective.parallel);
  const concurrency = parallelText === undefined ? 8 : Number(parallelText);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WmillError('usage', `--parallel must be a positive integer (got "${parallelText}")`);
  const flagSet = <K extends keyof SyncFlags>(k: K) => (opts[k] ? true : undefined);
  const flags = {
    skipVariables: flagSet('skipVariables'),
    skipResources: flagSet('skipResources'),
    skipResourceTypes: flagSet('skipResourceTypes'),
    skipScripts: flagSet('skipScripts'),
    skipFlows: flagSet('skipFlows'),
    skipFolders: flagSet('skipFolders'),
    skipApps: flagSet('skipApps'),
    skipWorkspaceDependencies: flagSet('skipWorkspaceDependencies'),
    skipSecrets: opts.includeSecrets ? false : flagSet('skipSecrets'),
    includeSchedules: flagSet('includeSchedules'),
    includeTriggers: flagSet('includeTriggers'),
    includeUsers: flagSet('includeUsers'),
    includeGroups: flagSet('includeGroups'),
    includeSettings: flagSet('includeSettings'),
    includeKey: flagSet('includeKey'),
    plainSecrets: flagSet('plainSecrets'),
  };
  for (const k of Object.keys(flags) as (keyof typeof flags)[]) if (flags[k] === undefined) delete flags[k];
  for (const [k, what] of NOT_SYNCED) {
    if (opts[k] || effective[k] === true) err(`warning: ${opts[k] ? `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `${k} in wmill.yaml`}: ${what} are not synced by this version of wmill; left as they are on both sides`);
  }
  if (opts.repository) err(`warning: --repository ${opts.repository}: this version has no git-sync settings; ignored`);
  const client = new ApiClient({ remote: ws.remote, token: ws.token, workspace: ws.workspaceId });
  const started = Date.now();

  if (direction === 'push' && (opts.autoMetadata || effective.autoMetadata === true)) {
    const { generateMetadata } = await import('../metadata/generate.js');
    const r = await generateMetadata(cfg, { onProgress: (i, n, item) => progress(`metadata [${i}/${n}] ${item.kind} ${item.file}`) });
    progressEnd();
    const failed = [...r.problems, ...r.failed];
    if (failed.length) {
      throw new WmillError('usage', `--auto-metadata: ${failed.length} item(s) failed, nothing was pushed: ${failed.map((f) => `${f.file}: ${f.message}`).join('; ')}`, { failed });
    }
    if (r.updated.length) err(`--auto-metadata: regenerated the metadata of ${r.updated.length} item(s) before pushing`);
  }

  const { plan, local, remote, options, warnings } = await prepareSync(cfg, client, {
    direction,
    keepDeleted: opts.keepDeleted,
    workspace: ws.workspaceId,
    flags,
  });
  for (const w of warnings) err(`warning: ${w}`);
  if (direction === 'push' && (opts.lint || effective.lint === true) && warnings.length) {
    throw new WmillError('usage', `--lint: ${warnings.length} problem(s) in the files (listed above); fix them, nothing was pushed`, { problems: warnings });
  }
  if (direction === 'push' && (opts.locksRequired || effective.locksRequired === true)) {
    const missing = await scriptsMissingLocks(local);
    if (missing.length) {
      throw new WmillError('usage', `--locks-required: ${missing.length} script(s) need a lock and have none: ${missing.join(', ')}; run 'wmill generate-metadata' (nothing was pushed)`, { missing });
    }
  }

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
      const savedDeletes = saved.changes.filter((c) => c.op === 'delete').length;
      const noDeletes = (cs: typeof saved.changes) => cs.filter((c) => c.op !== 'delete');
      if (opts.keepDeleted && savedDeletes > 0 && sig(noDeletes(saved.changes)) === sig(plan.changes)) {
        throw new WmillError('usage', `${opts.plan}: the plan deletes ${savedDeletes} item(s) and --keep-deleted forbids deletions; apply it without --keep-deleted, or make the plan with --keep-deleted`);
      }
      if (!opts.keepDeleted && sig(saved.changes) === sig(noDeletes(plan.changes))) {
        throw new WmillError('usage', `${opts.plan}: the plan was made with --keep-deleted (it has none of the ${plan.counts.delete} deletion(s) planned now); pass --keep-deleted to apply it`);
      }
      throw new WmillError('conflict', `${opts.plan}: the local files changed since the plan was made; make a new plan`);
    }
  }

  if (opts.planOut) writeFileAtomic(resolve(opts.planOut), `${JSON.stringify(plan, null, 2)}\n`);
  const lines = renderPlan(plan);
  if (!jsonOut) {
    for (const l of lines.slice(0, -1)) out(l.startsWith('-') ? color.red(l) : l.startsWith('+') ? color.green(l) : color.yellow(l));
    err(lines[lines.length - 1]!);
  }
  if (opts.showDiffs && plan.changes.length) {
    const { showDiffs } = await import('../sync/diff.js');
    const keys = plan.changes.filter((c) => c.op === 'update').map((c) => `${c.kind}:${c.path}`);
    const bodies = keys.length ? await remote.bodies(keys) : new Map<string, Record<string, unknown>>();
    for (const l of showDiffs(plan, local, bodies)) (jsonOut ? err : out)(l.startsWith('+') ? color.green(l) : l.startsWith('-') ? color.red(l) : l);
  }
  const empty = plan.changes.length === 0;
  if (opts.check || opts.dryRun || empty) {
    if (jsonOut) printJson({ ok: true, dryRun: !!opts.dryRun, check: !!opts.check, plan });
    if (opts.check && !empty) process.exitCode = 3;
    if (empty && !opts.dryRun && !opts.check) {
      const { saveState } = await import('../sync/state.js');
      saveState(cfg.root, plan, local, remote.items);
    }
    return;
  }

  const { loadState, saveState, conflicts } = await import('../sync/state.js');
  if (opts.failConflicts) {
    const both = conflicts(plan, loadState(cfg.root, plan.remote, plan.workspace));
    if (both.length) {
      throw new WmillError(
        'conflict',
        `--fail-conflicts: ${both.length} item(s) changed both locally and on ${plan.workspace} since this folder last synced with it: ${both.map((c) => `${c.kind} ${c.path}`).join(', ')}; nothing was ${direction === 'push' ? 'pushed' : 'pulled'} (pull and merge them first, or ${direction} without --fail-conflicts to overwrite)`,
        { conflicts: both },
      );
    }
  }

  const deletions = plan.counts.delete;
  const interactive = isInteractive() && !opts.yes;
  if (deletions > 0 && !opts.delete && !interactive) {
    throw new WmillError('usage', `${deletions} deletion(s) planned (listed above): pass --delete to apply them, or --keep-deleted to leave them`, { plan });
  }

  if (direction === 'pull' && !opts.force) {
    // Never overwrite (or delete) a file with changes git has not recorded.
    const { uncommittedFiles } = await import('../workspace/git.js');
    const dirty = new Set(await uncommittedFiles(cfg.root));
    if (dirty.size) {
      const touched = new Set<string>();
      for (const c of plan.changes) {
        const mine = local.get(`${c.kind}:${c.path}`);
        for (const f of mine?.files ?? []) touched.add(f);
        if (c.kind === 'flow' && mine) {
          const folder = mine.files[0]!.slice(0, mine.files[0]!.lastIndexOf('/') + 1);
          for (const f of dirty) if (f.startsWith(folder)) touched.add(f);
        }
        if (!mine) {
          const { fileFor } = await import('../sync/filter.js');
          const f = fileFor(c.kind, c.path, cfg, remote.items.get(`${c.kind}:${c.path}`)?.language);
          touched.add(f);
          if (c.kind === 'script') touched.add(`${c.path}.script.yaml`).add(`${c.path}.script.lock`);
        }
      }
      const hit = [...touched].filter((f) => dirty.has(f)).sort();
      if (hit.length) {
        throw new WmillError(
          'usage',
          `refused: the pull would overwrite ${hit.length} file(s) with uncommitted changes: ${hit.join(', ')}; commit or stash them, or pass --force to overwrite`,
          { files: hit },
        );
      }
    }
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
    let doneCount = 0;
    const tty = !!process.stderr.isTTY;
    const applyOpts = {
      message: opts.message ?? (typeof effective.message === 'string' ? effective.message : undefined),
      concurrency,
      plainSecrets: options.plainSecrets,
      onNote: (line: string) => {
        progressEnd();
        err(line);
      },
      // Off a terminal each applied change is a line (the record of what a failure left applied); on one, a progress line.
      onChange: (c: { op: string; kind: string; path: string }, outcome: 'done' | 'failed', e?: string) => {
        doneCount++;
        if (tty && outcome === 'done') progress(`[${doneCount}/${n}] ${c.op === 'delete' ? 'deleted' : 'pushed'} ${c.kind} ${c.path}`);
        else {
          progressEnd();
          err(outcome === 'done' ? `${c.op === 'delete' ? 'deleted' : 'pushed'} ${c.kind} ${c.path}` : `failed ${c.kind} ${c.path}: ${e}`);
        }
      },
    };
    // Our server takes the whole plan in one transaction (all or nothing); a real Windmill, change by change.
    if (remote.source === 'manifest' && !opts.oneByOne) {
      const r = await applyPushAtomic(client, plan, local, applyOpts);
      progressEnd();
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
      saveState(cfg.root, plan, local, remote.items);
      if (jsonOut) printJson({ ok: true, plan, applied: n, mode: 'transaction', requests: r.requests, ms: Date.now() - started });
      else err(`Done: ${n} of ${n} change(s) applied to ${plan.workspace} in one transaction (${Date.now() - started} ms)`);
      return;
    }
    err(
      `applying ${n} change(s) change by change (${opts.oneByOne ? '--one-by-one' : 'this server has no all-or-nothing push'}): a failure leaves what was applied before it in place, and the kinds of items after it are not attempted`,
    );
    const res = await applyPush(client, plan, local, applyOpts);
    progressEnd();
    if (res.failed.length) {
      throw new WmillError(
        'failure',
        `push stopped: ${res.done.length} of ${n} change(s) applied (${list(res.done) || 'none'}); failed: ${res.failed.map((f) => `${show(f.change)} (${f.error})`).join(', ')}; not applied: ${list(res.notApplied)}; re-run the push to retry`,
        { plan, applied: res.done, failed: res.failed, notApplied: res.notApplied },
      );
    }
    saveState(cfg.root, plan, local, remote.items);
    if (jsonOut) printJson({ ok: true, plan, applied: res.done.length, mode: 'change-by-change', ms: Date.now() - started });
    else err(`Done: ${res.done.length} of ${n} change(s) applied to ${plan.workspace} (${Date.now() - started} ms)`);
    return;
  }

  const keys = plan.changes.filter((c) => c.op !== 'delete').map((c) => `${c.kind}:${c.path}`);
  const bodies = await remote.bodies(keys);
  const { applyPull } = await import('../sync/pull.js');
  const res = applyPull(cfg, plan.changes, bodies, local, { format: opts.json ? 'json' : 'yaml' });
  const { rehash } = await import('../metadata/generate.js');
  rehash(cfg);
  saveState(cfg.root, plan, local, remote.items);
  if (jsonOut) printJson({ ok: true, plan, written: res.written, deleted: res.deleted, ms: Date.now() - started });
  else err(`Done: ${plan.changes.length} change(s) applied to the local folder (${res.written.length} file(s) written, ${res.deleted.length} deleted); wmill-lock.yaml updated (${Date.now() - started} ms)`);
}

/** Scripts in a language with locks whose external imports need one, and that have none. */
async function scriptsMissingLocks(local: Map<string, { kind: string; path: string; body: Record<string, unknown>; files: string[] }>): Promise<string[]> {
  const { lockKindOf, loadLockParsers, LockInputs, isEmptyRequest } = await import('../metadata/locks/request.js');
  const scripts = new Map<string, { path: string; language: Language; content: string; imports: string[] }>();
  for (const it of local.values()) {
    if (it.kind !== 'script') continue;
    const language = String(it.body.language) as Language;
    if (!lockKindOf(language) || String(it.body.lock ?? '').trim()) continue;
    scripts.set(it.path, { path: it.path, language, content: String(it.body.content ?? ''), imports: [] });
  }
  if (!scripts.size) return [];
  await loadLockParsers();
  const inputs = new LockInputs(scripts, new Map());
  const out: string[] = [];
  for (const [path, s] of scripts) {
    const r = inputs.request(path);
    if ('error' in r || !isEmptyRequest(r.request)) out.push(local.get(`script:${path}`)?.files[0] ?? s.path);
  }
  return out.sort();
}
