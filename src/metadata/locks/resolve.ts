/**
 * Resolve many dependency requests at once: each distinct request once per run, a persistent
 * cache across runs (keyed by the request and the registry/index configuration), and a fast,
 * single failure when the registry or index cannot be reached at all.
 */
import { connect } from 'node:net';
import type { WorkspaceConfig } from '../../workspace/config.js';
import { pool, readResolution, writeResolution } from './cache.js';
import { EMPTY_BUN_LOCK, npmSettings, resolveNpm, ResolveError, type NpmSettings } from './npm.js';
import { pipSettings, pythonFingerprint, resolvePip, type PipSettings } from './pip.js';
import { isEmptyRequest, requestKey, type DependencyRequest, type LockKind } from './request.js';

export interface ResolveOptions {
  /** Extra `--find-links` folders (the command's flag). */
  findLinks?: string[];
  /** Ignore cached resolutions (fresh resolution, cache refreshed). */
  refresh?: boolean;
  signal?: AbortSignal;
  /** Called before each resolution that runs a resolver. */
  onResolve?: (done: number, total: number, request: DependencyRequest) => void;
  /** Resolutions in flight at once. */
  concurrency?: number;
  /** The environment npm and pip run with (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface ResolveStats {
  /** Distinct non-empty dependency sets seen. */
  sets: number;
  /** Resolutions performed (npm/pip runs). */
  resolutions: number;
  /** Sets answered by the persistent cache. */
  cacheHits: number;
}

export type ResolveOutcome = { lock: string } | { error: string };

interface KindSettings {
  npm?: NpmSettings;
  pip?: PipSettings;
  pyVersion?: string;
}

/** A TCP connection attempt to the host of `url`: null when reachable, else the error text. */
export function probe(url: string, timeoutMs = 4000): Promise<string | null> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(null);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.resolve(null);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (v: string | null) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(`connect ETIMEDOUT ${host}:${port}`));
    sock.once('connect', () => done(null));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.message || e.code || 'connection failed'));
  });
}

function cacheKey(req: DependencyRequest, s: KindSettings): string {
  const cfg = req.kind === 'npm' ? s.npm!.fingerprint : `${s.pip!.fingerprint}|${s.pyVersion}`;
  return `${requestKey(req)}|${cfg}`;
}

function failure(kind: LockKind, e: unknown): string {
  if (e instanceof ResolveError) {
    const where = kind === 'npm' ? 'registry' : 'index';
    return e.unreachable ? `cannot resolve dependencies (${where} ${e.unreachable} unreachable): ${e.message}` : `cannot resolve dependencies: ${e.message}`;
  }
  if ((e as Error)?.name === 'AbortError') return 'interrupted';
  return `cannot resolve dependencies: ${(e as Error)?.message ?? String(e)}`.replace(/\s+/g, ' ');
}

/**
 * Resolve every distinct request (keyed by `requestKey`). Returns an outcome per key; failures
 * are per request, as one line.
 */
export async function resolveRequests(
  cfg: WorkspaceConfig,
  requests: Map<string, DependencyRequest>,
  opts: ResolveOptions = {},
): Promise<{ outcomes: Map<string, ResolveOutcome>; stats: ResolveStats }> {
  const outcomes = new Map<string, ResolveOutcome>();
  const stats: ResolveStats = { sets: 0, resolutions: 0, cacheHits: 0 };
  const kinds = new Set([...requests.values()].filter((r) => !isEmptyRequest(r)).map((r) => r.kind));
  const s: KindSettings = {};
  if (kinds.has('npm')) s.npm = npmSettings(cfg);
  if (kinds.has('pip')) {
    s.pip = pipSettings(cfg, opts.findLinks ?? []);
    s.pyVersion = await pythonFingerprint();
  }
  const todo: [string, DependencyRequest, string][] = [];
  for (const [key, req] of requests) {
    if (isEmptyRequest(req)) {
      outcomes.set(key, { lock: req.kind === 'npm' ? EMPTY_BUN_LOCK : '' });
      continue;
    }
    stats.sets++;
    const ck = cacheKey(req, s);
    const hit = opts.refresh ? null : readResolution(ck);
    if (hit !== null) {
      stats.cacheHits++;
      outcomes.set(key, { lock: hit });
    } else todo.push([key, req, ck]);
  }
  if (!todo.length) return { outcomes, stats };

  // One reachability probe per registry/index we were pointed at, so that an unreachable one
  // fails at once instead of after the resolver's retries. Skipped behind a proxy.
  const unreachable = new Map<LockKind, string>();
  const probes: Promise<void>[] = [];
  if (s.npm && !s.npm.proxied && todo.some(([, r]) => r.kind === 'npm')) {
    const reg = s.npm.registry;
    probes.push(probe(reg).then((e) => void (e && unreachable.set('npm', `cannot resolve dependencies (registry ${reg} unreachable): ${e}`))));
  }
  if (s.pip?.index && s.pip.indexOnly && !s.pip.proxied && todo.some(([, r]) => r.kind === 'pip')) {
    const idx = s.pip.index;
    probes.push(probe(idx).then((e) => void (e && unreachable.set('pip', `cannot resolve dependencies (index ${idx} unreachable): ${e}`))));
  }
  await Promise.all(probes);

  const runnable = todo.filter(([key, req]) => {
    const u = unreachable.get(req.kind);
    if (u) outcomes.set(key, { error: u });
    return !u;
  });
  let done = 0;
  await pool(runnable, opts.concurrency ?? 4, async ([key, req, ck]) => {
    if (opts.signal?.aborted) {
      outcomes.set(key, { error: 'interrupted' });
      return;
    }
    opts.onResolve?.(++done, runnable.length, req);
    stats.resolutions++;
    try {
      const lock =
        req.kind === 'npm'
          ? await resolveNpm(req.entries as [string, string][], s.npm!, opts.signal, opts.env)
          : await resolvePip(req.entries as string[], s.pip!, opts.signal, opts.env);
      writeResolution(ck, lock);
      outcomes.set(key, { lock });
    } catch (e) {
      outcomes.set(key, { error: opts.signal?.aborted ? 'interrupted' : failure(req.kind, e) });
    }
  });
  return { outcomes, stats };
}
