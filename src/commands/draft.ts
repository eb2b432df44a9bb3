/**
 * `wmill draft push|show|list|diff|deploy|delete`: your per-user drafts on the workspace's
 * server (each user has their own; saving never touches the deployed version or another user's
 * draft). Argument parsing and rendering only; the logic is in src/sync/drafts.ts.
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { color, err, out, printJson } from '../util/output.js';
import { remoteClient, remoteOptions, type RemoteFlags } from './remote-options.js';
import type { DraftKind, DraftTarget } from '../sync/drafts.js';
import type { ApiClient } from '../api/client.js';

/** Colour decisions for stdout (the helpers default to stderr). */
const STDOUT = process.stdout as unknown as typeof process.stderr;

const KINDS = ['script', 'flow', 'app', 'raw_app', 'resource', 'variable', 'schedule'];

function kindOf(k: string | undefined): DraftKind {
  const kind = k ?? 'script';
  if (!KINDS.includes(kind)) throw new WmillError('usage', `--kind must be one of ${KINDS.join(', ')}, got '${kind}'`);
  return kind as DraftKind;
}

/** Where this copy remembers its drafts' timestamps: the sync root of the working directory. */
async function targetFor(client: ApiClient, start: string): Promise<DraftTarget | null> {
  try {
    const { loadConfig } = await import('../workspace/config.js');
    return { root: loadConfig(start).root, remote: client.remote, workspace: client.workspace };
  } catch {
    return null;
  }
}

const when = (s: string | undefined) => (s ? s.replace('T', ' ').replace(/Z$/, '') : '?');

export function registerDraft(program: Command): void {
  const draft = program.command('draft').description('Your drafts on the server: save a local script or flow as a draft, compare, deploy');

  remoteOptions(
    draft
      .command('push')
      .alias('save')
      .argument('<file>', 'the local script file, e.g. f/folder/name.ts (its .script.yaml is included), or a flow folder (<name>__flow / <name>.flow)')
      .option('--last-sync <timestamp>', 'the save time this copy last saw (default: remembered in .wmill/drafts.json)')
      .option('--force', 'save even over a newer save of your draft made elsewhere')
      .option('--rebase', 'start the draft over from the currently deployed version')
      .option('--json', 'print the result as JSON'),
  )
    .description('Save a local script file or flow folder as your draft of its path (the deployed version is not changed)')
    .action(async (file: string, opts: RemoteFlags & { lastSync?: string; force?: boolean; rebase?: boolean }) => {
      const { readLocalScript, readLocalFlow, isFlowTarget, pushDraft } = await import('../sync/drafts.js');
      const local = isFlowTarget(process.cwd(), file) ? { kind: 'flow' as const, ...(await readLocalFlow(process.cwd(), file)) } : { kind: 'script' as const, ...(await readLocalScript(process.cwd(), file)) };
      const client = await remoteClient(opts);
      const target = { root: local.root, remote: client.remote, workspace: client.workspace };
      const r = await pushDraft(client, target, local, { lastSync: opts.lastSync, force: opts.force, rebase: opts.rebase });
      if (opts.json) return printJson({ ok: true, ...r });
      const base = r.kind === 'flow' ? (r.version_id != null ? `version ${r.version_id}` : 'no deployed version') : (r.parent_hash ?? 'no deployed version');
      const now = r.kind === 'flow' ? `version ${r.deployed}` : String(r.deployed);
      const kindArg = r.kind === 'flow' ? ' --kind flow' : '';
      out(`Saved your draft of ${r.kind === 'flow' ? 'flow ' : ''}${r.path} at ${when(r.saved_at)} (based on ${base})`);
      if (r.deployed_changed_since_draft) {
        err(color.yellow(`warning: ${r.path} was deployed since your draft started (draft based on ${base}, deployed now ${now}); see 'wmill draft diff ${r.path}${kindArg}'`));
      }
    });

  remoteOptions(
    draft
      .command('show')
      .argument('<path>', 'Windmill path, e.g. f/folder/name')
      .option('--kind <kind>', `draft kind (${KINDS.join(', ')})`, 'script')
      .option('--json', 'print {ok, kind, path, created_at, value} as JSON'),
  )
    .description('Show your draft of an item')
    .action(async (path: string, opts: RemoteFlags & { kind?: string }) => {
      const kind = kindOf(opts.kind);
      const client = await remoteClient(opts);
      const { getOwnDraft, noDraft } = await import('../sync/drafts.js');
      const d = await getOwnDraft(client, kind, path);
      if (!d) throw noDraft(kind, path);
      if (opts.json) return printJson({ ok: true, kind, path: d.value.path ?? path, created_at: d.created_at, value: d.value });
      const v = d.value;
      err(`Your draft of ${kind} ${path}, saved ${when(d.created_at)}${kind === 'script' ? `, based on ${v.parent_hash ?? 'no deployed version'}` : ''}`);
      if (typeof v.content === 'string') {
        for (const k of ['language', 'summary', 'description', 'kind']) if (v[k] !== undefined && v[k] !== '') err(`${k}: ${String(v[k])}`);
        out(v.content.endsWith('\n') ? v.content.slice(0, -1) : v.content);
      } else {
        printJson(v);
      }
    });

  remoteOptions(
    draft
      .command('list')
      .option('--all', "include the other users' drafts you can see")
      .option('--json', 'print {ok, drafts} as JSON'),
  )
    .description('List your drafts (or everyone\'s with --all)')
    .action(async (opts: RemoteFlags & { all?: boolean }) => {
      const client = await remoteClient(opts);
      const { listDrafts } = await import('../sync/drafts.js');
      const rows = await listDrafts(client, !!opts.all);
      if (opts.json) return printJson({ ok: true, drafts: rows });
      if (!rows.length) return out(opts.all ? 'No drafts' : "You have no drafts (save one with 'wmill draft push <file>')");
      const pw = Math.max(4, ...rows.map((r) => r.path.length));
      const kw = Math.max(4, ...rows.map((r) => r.kind.length));
      const uw = Math.max(4, ...rows.map((r) => String(r.username ?? '').length));
      out(`${'kind'.padEnd(kw)}  ${'path'.padEnd(pw)}  ${'user'.padEnd(uw)}  ${'saved at'.padEnd(23)}  note`);
      for (const r of rows) {
        const note = [r.mine ? 'yours' : '', r.draft_only ? 'never deployed' : ''].filter(Boolean).join(', ');
        out(`${r.kind.padEnd(kw)}  ${r.path.padEnd(pw)}  ${String(r.username ?? '').padEnd(uw)}  ${when(r.created_at).padEnd(23)}  ${note}`);
      }
    });

  remoteOptions(
    draft
      .command('diff')
      .argument('<path>', 'Windmill path, e.g. f/folder/name')
      .option('--kind <kind>', `draft kind (${KINDS.join(', ')})`, 'script')
      .option('--json', 'print the comparison as JSON'),
  )
    .description('Compare your draft with the deployed version; warns when it was deployed since your draft started')
    .action(async (path: string, opts: RemoteFlags & { kind?: string }) => {
      const kind = kindOf(opts.kind);
      const client = await remoteClient(opts);
      const { diffDraft, lineDiff } = await import('../sync/drafts.js');
      const d = await diffDraft(client, kind, path);
      if (opts.json) return printJson({ ok: true, ...d });
      if (d.deployed_changed_since_draft) {
        err(color.yellow(`warning: ${d.path} was deployed since your draft started (draft based on ${d.draft_base}, deployed now ${d.deployed_version}); deploying the draft will fail unless you pass --auto-parent, which replaces that version's changes with yours`));
      }
      if (!d.deployed) out(`${kind} ${d.path} is not deployed: the whole draft is new`);
      if (d.deployed && d.changed_fields.length === 0) return out(`No differences between your draft of ${d.path} and the deployed version ${d.deployed_version ?? ''}`.trimEnd());
      if (d.deployed) out(`Changed in your draft of ${d.path} (against ${d.deployed_version ?? 'the deployed version'}): ${d.changed_fields.join(', ')}`);
      for (const f of d.changed_fields) {
        const a = d.deployed?.[f];
        const b = d.draft[f];
        if (typeof a === 'string' && typeof b === 'string' && (a.includes('\n') || b.includes('\n'))) {
          const lines = lineDiff(a, b);
          out(`--- ${f} (deployed)`);
          out(`+++ ${f} (draft)`);
          if (!lines) out(`(too large to compare line by line: ${a.split('\n').length} → ${b.split('\n').length} lines)`);
          else for (const l of lines) out(l.startsWith('+') ? color.green(l, STDOUT) : l.startsWith('-') ? color.red(l, STDOUT) : l);
        } else if (d.deployed) {
          const show = (v: unknown) => {
            const s = JSON.stringify(v ?? null);
            return s.length > 100 ? `${s.slice(0, 97)}...` : s;
          };
          out(`${f}: ${show(a)} → ${show(b)}`);
        }
      }
    });

  remoteOptions(
    draft
      .command('deploy')
      .argument('<path>', 'Windmill path of the script or flow, e.g. f/folder/name')
      .option('--kind <kind>', 'draft kind (script, flow)', 'script')
      .option('--message <text>', 'deployment message')
      .option('--auto-parent', 'deploy on top of the current version even when someone deployed since your draft started')
      .option('--json', 'print the result as JSON'),
  )
    .description('Deploy your draft of a script (or flow) as a new version on top of the version it started from; the draft is then deleted')
    .action(async (path: string, opts: RemoteFlags & { kind?: string; message?: string; autoParent?: boolean }) => {
      const kind = kindOf(opts.kind);
      if (kind !== 'script' && kind !== 'flow') throw new WmillError('usage', `draft deploy handles scripts and flows; deploy a ${kind} with 'wmill sync push'`);
      const client = await remoteClient(opts);
      const { deployDraft, deployFlowDraft } = await import('../sync/drafts.js');
      const target = await targetFor(client, process.cwd());
      if (kind === 'flow') {
        const r = await deployFlowDraft(client, target, path, { message: opts.message, autoParent: opts.autoParent });
        if (opts.json) return printJson({ ok: true, ...r });
        return out(`Deployed your draft of flow ${r.path} as version ${r.version ?? '?'}`);
      }
      const r = await deployDraft(client, target, path, { message: opts.message, autoParent: opts.autoParent });
      if (opts.json) return printJson({ ok: true, ...r });
      out(`Deployed your draft of ${r.path} as ${r.hash}${r.parent_hash && !r.auto_parent ? ` (on top of ${r.parent_hash})` : ''}`);
    });

  remoteOptions(
    draft
      .command('delete')
      .argument('<path>', 'Windmill path, e.g. f/folder/name')
      .option('--kind <kind>', `draft kind (${KINDS.join(', ')})`, 'script')
      .option('--json', 'print the result as JSON'),
  )
    .description('Delete your draft of an item (the deployed version is not changed)')
    .action(async (path: string, opts: RemoteFlags & { kind?: string }) => {
      const kind = kindOf(opts.kind);
      const client = await remoteClient(opts);
      const { deleteDraft } = await import('../sync/drafts.js');
      const deleted = await deleteDraft(client, await targetFor(client, process.cwd()), kind, path);
      if (opts.json) return printJson({ ok: true, kind, path, deleted });
      out(deleted ? `Deleted your draft of ${kind} ${path}` : `You had no draft of ${kind} ${path}; nothing deleted`);
    });
}
