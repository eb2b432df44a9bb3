/**
 * The workspace a command talks to, with what wmill.yaml (`workspaces:`) and git (the current
 * branch) say: resolveWorkspace (profiles.ts) given its context. git is asked only when
 * wmill.yaml has entries and no --workspace / --base-url decides already.
 */
import { findSyncRoot } from './config-fast.js';
import { resolveWorkspace, type ResolvedWorkspace, type ResolveFlags } from './profiles.js';
import { workspaceEntries, type WorkspaceEntry } from './workspaces.js';

export interface Target {
  ws: ResolvedWorkspace;
  entries: [string, WorkspaceEntry][];
  branch: string | null;
  warnings: string[];
}

/** `raw`: the wmill.yaml value when the caller has it (else it is read from the sync root of `cwd`, if any). */
export async function resolveTarget(flags: ResolveFlags, opts: { cwd?: string; raw?: Record<string, unknown>; file?: string; branch?: string } = {}): Promise<Target> {
  const cwd = opts.cwd ?? process.cwd();
  let raw = opts.raw;
  let file = opts.file ?? 'wmill.yaml';
  let root: string | null = null;
  if (!raw) {
    root = findSyncRoot(cwd);
    if (root) {
      const { loadConfigFast } = await import('./config-fast.js');
      const cfg = loadConfigFast(cwd) ?? (await import('./config.js')).loadConfig(cwd);
      raw = cfg.raw as Record<string, unknown>;
      file = cfg.file ?? file;
    }
  }
  const { entries, warnings } = raw ? workspaceEntries(raw, file) : { entries: [], warnings: [] };
  let branch: string | null = opts.branch ?? null;
  if (!branch && entries.length && !flags.workspace && !flags.baseUrl) {
    const { currentBranch } = await import('./git.js');
    branch = await currentBranch(root ?? cwd);
  }
  return { ws: resolveWorkspace(flags, { entries, branch }), entries, branch, warnings };
}
