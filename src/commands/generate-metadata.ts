import type { Command } from 'commander';
import { loadConfig } from '../workspace/config.js';
import { generateMetadata, planMetadata, rehash, type GenerateResult, type Plan, type StaleItem } from '../metadata/generate.js';
import { EXIT, WmillError } from '../errors.js';
import { color, confirm, debug, err, isInteractive, isVerbose, out, printJson, progress, progressEnd } from '../util/output.js';
import { renderChange } from '../metadata/locks/versions.js';

interface Opts {
  dryRun?: boolean;
  schemaOnly?: boolean;
  lockOnly?: boolean;
  yes?: boolean;
  strictFolderBoundaries?: boolean;
  check?: boolean;
  json?: boolean;
  refreshLocks?: boolean;
  findLinks?: string[];
  skipScripts?: boolean;
  skipFlows?: boolean;
  skipApps?: boolean;
  includes?: string;
  excludes?: string;
  parallel?: string;
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));

/** The configuration, with -i/-e replacing wmill.yaml includes/excludes; a folder without wmill.yaml warns (defaults apply). */
async function configFor(opts: Opts) {
  const cfg = loadConfig(process.cwd());
  if (!cfg.file) {
    err(color.yellow(`warning: no wmill.yaml in ${process.cwd()} or above (up to the git top-level): the defaults apply (includes f/**); run 'wmill init' to make this folder a workspace`));
  }
  const inc = list(opts.includes);
  const exc = list(opts.excludes);
  return inc || exc ? { ...cfg, includes: inc ?? cfg.includes, excludes: exc ?? cfg.excludes } : cfg;
}

const GROUPS: [StaleItem['kind'], string][] = [
  ['dependency', 'Workspace dependencies'],
  ['script', 'Scripts'],
  ['flow', 'Flows'],
];

function renderPlan(plan: Plan, folder: string | undefined): void {
  for (const s of plan.skipped) {
    err(color.yellow(`Warning: ${s.file} depends on something inside "${s.folder}" but is outside it — skipped due to --strict-folder-boundaries. Next generate-metadata will not detect it as stale.`));
  }
  if (plan.stale.length === 0) {
    out('All metadata up-to-date');
    return;
  }
  out('');
  out(`Found ${plan.stale.length} item(s) with stale metadata${folder ? ` in ${folder}` : ''}:`);
  for (const [kind, title] of GROUPS) {
    const items = plan.stale.filter((s) => s.kind === kind);
    if (!items.length) continue;
    out(`  ${title} (${items.length}):`);
    for (const i of items) out(`    ~ ${i.file} — ${i.reason}`);
  }
}

/** Dependency versions that changed, per script (a new lock is summarized in one line). */
function renderLockChanges(r: GenerateResult): void {
  if (!r.lockChanges.length) return;
  out('');
  out('Dependency changes:');
  for (const c of r.lockChanges) {
    if (c.created) {
      out(`  ${c.file}: new lock, ${c.changes.length} package(s): ${c.changes.map((x) => `${x.name} ${x.to}`).join(', ')}`);
      continue;
    }
    out(`  ${c.file}:`);
    for (const x of c.changes) out(`    ${renderChange(x)}`);
  }
}

/** The JSON report: camelCase keys, as every document of ours (README "JSON output"). */
function jsonOf(r: Plan | GenerateResult, extra: Record<string, unknown>) {
  return { ...extra, ...r };
}

export function registerGenerateMetadata(program: Command): void {
  const cmd = program
    .command('generate-metadata')
    .argument('[paths...]', 'only the items under these folders or of these files (e.g. the staged files a pre-commit hook passes), and their importers unless --strict-folder-boundaries')
    .description('Infer schemas (.script.yaml), resolve locks (.script.lock, TypeScript and Python), and record content hashes in wmill-lock.yaml for every stale item')
    .option('--dry-run', 'list each stale item with its reason; write nothing')
    .option('--check', 'exit 3 when anything is stale; write nothing (for CI and pre-commit hooks)')
    .option('--schema-only', 're-infer schemas only; leave locks as they are')
    .option('--lock-only', 'regenerate locks only (also those without a recorded lock hash); leave schemas as they are')
    .option('--strict-folder-boundaries', 'with a path: never touch items outside it, even importers of what changed')
    .option('--refresh-locks', 're-lock every TypeScript/Python script in scope, resolving again instead of using cached resolutions (picks up new releases)')
    .option('--find-links <dir...>', 'extra local folders (or URLs) of Python wheels for pip, besides wmill.yaml python.findLinks')
    .option('--skip-scripts', 'leave scripts as they are')
    .option('--skip-flows', 'leave flows as they are')
    .option('--skip-apps', 'leave apps as they are (this version generates no app metadata)')
    .option('-i, --includes <patterns>', 'comma-separated globs of the files to consider (replace wmill.yaml includes)')
    .option('-e, --excludes <patterns>', 'comma-separated globs of the files to leave out (replace wmill.yaml excludes)')
    .option('--parallel <n>', 'dependency resolutions run at once (default 4)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (paths: string[], opts: Opts) => {
      if (opts.schemaOnly && opts.lockOnly) throw new WmillError('usage', '--schema-only and --lock-only exclude each other; pick one');
      if (opts.strictFolderBoundaries && !paths.length) throw new WmillError('usage', '--strict-folder-boundaries needs a folder (or paths) to keep to');
      const parallel = opts.parallel === undefined ? undefined : Number(opts.parallel);
      if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1)) throw new WmillError('usage', `--parallel must be a positive integer (got "${opts.parallel}")`);
      const path = paths.length ? paths.join(', ') : undefined;
      const cfg = await configFor(opts);
      if (!opts.json) err('Checking scripts, flows, apps...');
      const mode = opts.schemaOnly ? 'schema-only' : opts.lockOnly ? 'lock-only' : 'all';
      const common = {
        folder: paths.length ? paths : undefined,
        skipScripts: opts.skipScripts,
        skipFlows: opts.skipFlows,
        parallel,
        mode,
        strictFolderBoundaries: opts.strictFolderBoundaries,
        refreshLocks: opts.refreshLocks,
        findLinks: opts.findLinks,
      } as const;
      if (opts.dryRun || opts.check) {
        const plan = await planMetadata(cfg, common);
        if (opts.json) printJson(jsonOf(plan, { ok: plan.problems.length === 0, staleCount: plan.stale.length }));
        else {
          renderPlan(plan, path);
          for (const p of plan.problems) err(color.red(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`));
        }
        if (opts.check && plan.stale.length > 0) process.exitCode = EXIT.drift;
        else if (plan.problems.length > 0) process.exitCode = EXIT.failure;
        return;
      }
      if (!opts.yes && isInteractive()) {
        const plan = await planMetadata(cfg, common);
        renderPlan(plan, path);
        if (plan.stale.length === 0) return;
        if (!(await confirm('Update metadata?'))) {
          err('Aborted; nothing was written.');
          process.exitCode = EXIT.usage;
          return;
        }
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const r = await generateMetadata(cfg, {
        ...common,
        signal: ac.signal,
        // On a terminal one line rewritten; off one nothing (the summary follows), but with --verbose a line per item.
        onProgress: opts.json ? undefined : (i, n, item) => (isVerbose() ? debug(`[${i}/${n}] ${item.kind} ${item.file}`) : progress(`[${i}/${n}] ${item.kind} ${item.file}`)),
        onResolve: opts.json ? undefined : (i, n, names) => progress(`resolving dependencies (${i}/${n}): ${names.join(', ')}`),
      });
      progressEnd();
      const failed = r.failed.length + r.problems.length;
      if (opts.json) {
        printJson(jsonOf(r, { ok: failed === 0 }));
      } else {
        if (r.lockFileCreated) err('wmill-lock.yaml created');
        if (opts.yes || !isInteractive()) renderPlan(r, path);
        for (const w of r.warnings) err(color.yellow(w));
        if (r.locksLeft.length) {
          const langs = [...new Set(r.locksLeft.map((x) => x.language))].join(', ');
          err(color.yellow(`Locks kept as they are for ${r.locksLeft.length} script(s) (${langs}): there is no local lock resolution for these languages.`));
        }
        for (const f of [...r.problems, ...r.failed]) err(color.red(`${f.file}${f.line ? `:${f.line}` : ''}: ${f.message}`));
        renderLockChanges(r);
        if (r.stale.length > 0) out(`Done. Updated ${r.updated.length}/${r.stale.length} item(s).${failed ? ` ${failed} failed.` : ''}`);
      }
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (r.interrupted) {
        err(color.yellow(`Interrupted: ${r.updated.length} item(s) were updated and recorded; run the command again to finish.`));
        process.exitCode = 130;
        return;
      }
      // A malformed file we read is bad input (2); other failures (resolution, parsers) are 1.
      if (failed > 0) process.exitCode = r.failed.some((f) => f.badInput) ? EXIT.usage : EXIT.failure;
    });

  cmd
    .command('rehash')
    .argument('[path]', 'only items under this folder')
    .description('Recompute wmill-lock.yaml hashes from the files on disk (offline; no inference)')
    .option('--json', 'print the result as JSON on stdout')
    .action((path: string | undefined, opts: { json?: boolean }) => {
      const cfg = loadConfig(process.cwd());
      const r = rehash(cfg, path);
      if (opts.json) printJson({ ok: true, ...r });
      else {
        for (const s of r.skipped) err(color.yellow(`Skipping ${s.file}: ${s.reason}`));
        out(`Rehashed ${r.scripts} script(s), ${r.flows} flow(s) from disk.`);
      }
    });
}
