/**
 * The job sandbox of `wmill serve` and `wmill worker`: every job process (executors, residents,
 * spares, prewarmed interpreters, whether spawned here or by the spawner helper) starts inside a
 * bubblewrap (`bwrap`) namespace that shows it only what a job needs:
 *
 * - read-only: the system folders (/usr, /bin, /lib*, /sbin, /etc without its secret files), the
 *   folder its interpreter is installed in (pyenv, nvm, a venv: found from the command itself),
 *   wmill's own files for the wrappers (python/, node_modules, the runner's asset folder) and
 *   what the operator lists in WMILL_SANDBOX_RO;
 * - writable: its own job folder (also its HOME), a private, empty /tmp, and the folders the
 *   operator lists in WMILL_SANDBOX_RW (shared by all jobs);
 * - nothing else: not the server's data folder, not other jobs' folders, not /root or /home;
 *   /proc of its own PID namespace (the server's processes and their environment are not there);
 *   the network is shared (jobs call the API on loopback).
 *
 * A server running as root drops the job to `nobody` (65534) inside with setpriv, with no
 * capabilities and no_new_privs; the job folder is handed to that uid. A server running as another
 * user keeps its uid inside (bwrap then needs unprivileged user namespaces).
 *
 * WMILL_SANDBOX=bwrap|none|auto (default auto: bwrap when a probe run works, checked once at start).
 * Local preview never uses it (the user's own machine and files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { packageRoot } from '../../paths.js';
import { assetDir } from '../assets.js';
import { findExecutable } from './index.js';

export interface SandboxConfig {
  kind: 'bwrap';
  bwrap: string;
  /** The uid/gid a job runs as (the server runs as root: dropped with setpriv); undefined: the server's own. */
  uid?: number;
  gid?: number;
  setpriv?: string;
  /** Extra read-only folders or files (wmill's own files, WMILL_SANDBOX_RO). */
  ro: string[];
  /** Extra writable folders every job shares (WMILL_SANDBOX_RW; the host's permissions still apply). */
  rw?: string[];
  /** Masked with an empty tmpfs wherever a read-only folder would show them (the server's data folder). */
  hide: string[];
}

export type SandboxSetting = 'bwrap' | 'none' | 'auto';

/** System folders shown read-only (a symlink, as on merged-/usr systems, is recreated as one). */
const SYSTEM = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
/** Files of /etc a job never sees (replaced by an empty file). */
const SECRET_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/security/opasswd'];
/** Folders of /etc a job never sees (replaced by an empty folder). */
const SECRET_DIRS = ['/etc/ssh', '/etc/sudoers.d', '/etc/ssl/private', '/etc/wmill'];

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
const underSystem = (p: string): boolean => SYSTEM.some((s) => under(p, s));

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

function kind(p: string): 'dir' | 'file' | 'link' | undefined {
  try {
    const s = lstatSync(p);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The node_modules folder a resolved module file lives in. */
function modulesOf(file: string): string | undefined {
  const i = file.lastIndexOf(`${sep}node_modules${sep}`);
  return i === -1 ? undefined : file.slice(0, i + `${sep}node_modules`.length);
}

/** wmill's own files a job's wrapper needs (python/, node_modules with tsx and windmill-client, the asset folder). */
export function packageFiles(): string[] {
  const root = packageRoot();
  const out = [join(root, 'python'), join(root, 'package.json'), join(root, 'node_modules'), assetDir()];
  const req = createRequire(join(root, 'package.json'));
  for (const m of ['tsx/esm', 'windmill-client']) {
    try {
      const dir = modulesOf(req.resolve(m));
      if (dir) out.push(dir);
    } catch {
      /* not installed: the job says so when it needs it */
    }
  }
  return out;
}

const rootsCache = new Map<string, string[]>();

/**
 * The folder an interpreter is installed in, when it is outside the system folders: the parent of
 * its bin/ (or pyenv's shims/) folder, for the command as found on PATH and for its real path
 * (a pyenv shim and the version it runs, a venv and its base interpreter).
 */
export function installRoots(cmd: string): string[] {
  const hit = rootsCache.get(cmd);
  if (hit) return hit;
  const out = new Set<string>();
  for (const p of new Set([cmd, real(cmd) ?? cmd])) {
    if (underSystem(p)) continue;
    const d = dirname(p);
    out.add(['bin', 'sbin', 'shims'].includes(basename(d)) ? dirname(d) : d);
  }
  const roots = [...out];
  rootsCache.set(cmd, roots);
  return roots;
}

/** Every path and, when it differs, its real path (a symlinked node_modules shows both ways). */
function withReal(paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    if (!isAbsolute(p) || !existsSync(p)) continue;
    out.add(resolve(p));
    const r = real(p);
    if (r) out.add(r);
  }
  return [...out];
}

/**
 * The bwrap command line running `cmd args` (cmd absolute) in `cwd` inside the sandbox.
 */
export function bwrapArgs(sb: SandboxConfig, cmd: string, args: string[], cwd: string): string[] {
  const a = ['--die-with-parent', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try'];
  if (sb.uid === undefined && process.getuid?.() !== 0) a.push('--unshare-user');
  a.push('--proc', '/proc', '--dev', '/dev');
  for (const s of SYSTEM) {
    const k = kind(s);
    if (k === 'link') a.push('--symlink', readlinkSync(s), s);
    else if (k === 'dir') a.push('--ro-bind', s, s);
  }
  // /etc/resolv.conf may point outside /etc (systemd-resolved): show where it points.
  const resolv = real('/etc/resolv.conf');
  const extra = resolv && !underSystem(resolv) ? [resolv] : [];
  for (const f of SECRET_FILES) if (kind(f) === 'file') a.push('--ro-bind', '/dev/null', f);
  for (const d of SECRET_DIRS) if (kind(d) === 'dir') a.push('--tmpfs', d);
  a.push('--perms', '1777', '--tmpfs', '/tmp');

  // Read-only extras, outermost first, each once; their parent folders traversable (bwrap would
  // copy the modes of the host's, e.g. /root's 0700).
  const ro = withReal([...sb.ro, ...installRoots(cmd), ...extra])
    .filter((p) => !underSystem(p))
    .sort((x, y) => x.length - y.length)
    .filter((p, i, all) => !all.slice(0, i).some((q) => under(p, q)));
  const made = new Set<string>(['/', '/tmp']);
  const parents = (p: string) => {
    const chain: string[] = [];
    for (let d = dirname(p); !made.has(d) && d !== dirname(d); d = dirname(d)) chain.unshift(d);
    for (const d of chain) {
      if (underSystem(d) || ro.some((q) => under(d, q))) continue;
      made.add(d);
      a.push('--perms', '0755', '--dir', d);
    }
  };
  for (const p of ro) {
    parents(p);
    a.push('--ro-bind', p, p);
  }
  const rw = withReal(sb.rw ?? []);
  for (const p of rw) {
    parents(p);
    a.push('--bind', p, p);
  }
  parents(cwd);
  a.push('--bind', cwd, cwd);
  for (const h of sb.hide) {
    if ([...ro, ...rw].some((q) => under(h, q)) && kind(h) === 'dir') a.push('--tmpfs', h);
  }
  a.push('--chdir', cwd);
  if (sb.uid !== undefined && sb.setpriv) {
    // Kept by bwrap for the set-up only (the chdir into the job's folder, now nobody's; the uid
    // switch); setpriv then drops them all: the job has no capability (setresuid away from 0
    // clears them, and the bounding and inheritable sets are emptied).
    a.push('--cap-drop', 'ALL', '--cap-add', 'CAP_DAC_READ_SEARCH', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
    a.push('--', sb.setpriv, `--reuid=${sb.uid}`, `--regid=${sb.gid ?? sb.uid}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--', cmd, ...args);
  } else {
    a.push('--cap-drop', 'ALL', '--', cmd, ...args);
  }
  return a;
}

/** Hand a job's folder to the sandbox's uid (files and folders, never following a symlink). */
export function giveToJob(sb: SandboxConfig | undefined, dir: string): void {
  if (sb?.uid === undefined) return;
  const walk = (p: string, depth: number) => {
    try {
      lchownSync(p, sb.uid!, sb.gid ?? sb.uid!);
      if (depth < 32 && lstatSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e), depth + 1);
    } catch {
      /* gone meanwhile */
    }
  };
  walk(dir, 0);
}

/**
 * `cmd args` as run in the sandbox (the command resolved on the job's PATH first), with the
 * job's HOME and TMPDIR. Unchanged when there is no sandbox, or when the command is not found
 * (the spawn then fails with ENOENT, as without a sandbox).
 */
export function sandboxed(
  sb: SandboxConfig | undefined,
  spec: { cmd: string; args: string[]; cwd: string; env: Record<string, string | undefined> },
): { cmd: string; args: string[]; env: Record<string, string | undefined> } {
  if (!sb) return spec;
  const cmd = findExecutable(spec.cmd, spec.env.PATH ?? '');
  if (!cmd) return spec;
  giveToJob(sb, spec.cwd);
  return { cmd: sb.bwrap, args: bwrapArgs(sb, cmd, spec.args, spec.cwd), env: { ...spec.env, HOME: spec.cwd, TMPDIR: '/tmp' } };
}

export interface SandboxChoice {
  mode: 'bwrap' | 'none';
  config?: SandboxConfig;
  /** One line for the server's log: which mode, and why when it is none. */
  line: string;
  /** The line is a warning (no sandbox). */
  warn: boolean;
}

/** The sandbox asked for cannot be had (a usage error for serve and worker). */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

/**
 * Decide the sandbox from WMILL_SANDBOX (bwrap | none | auto, default auto), probing bwrap once
 * with the exact set-up jobs get. `bwrap` that does not work is an error (the server must not
 * start without the sandbox it was asked for); `auto` falls back to none, saying so.
 */
export function chooseSandbox(setting: string | undefined, opts: { hide?: string[]; env?: NodeJS.ProcessEnv } = {}): SandboxChoice {
  const env = opts.env ?? process.env;
  const s = (setting ?? '').trim() || 'auto';
  if (s !== 'bwrap' && s !== 'none' && s !== 'auto') throw new SandboxError(`WMILL_SANDBOX must be bwrap, none or auto (got "${s}")`);
  if (s === 'none') {
    return { mode: 'none', warn: true, line: 'warning: job sandbox: none (WMILL_SANDBOX=none): jobs run as this server\'s OS user and can read what it can' };
  }
  const bwrap = findExecutable(env.WMILL_BWRAP || 'bwrap', env.PATH ?? '');
  const root = process.getuid?.() === 0;
  const setpriv = root ? findExecutable('setpriv', '/usr/bin:/bin:/usr/sbin:/sbin') : undefined;
  let why: string | undefined;
  let config: SandboxConfig | undefined;
  if (!bwrap) why = 'bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)';
  else if (root && !setpriv && env.WMILL_SANDBOX_UID?.trim() !== '0') why = 'setpriv is not installed (util-linux), needed to run jobs as nobody';
  else {
    const list = (v: string | undefined) => (v ?? '').split(':').filter((p) => p && isAbsolute(p));
    // The uid jobs run as when the server is root: nobody, or WMILL_SANDBOX_UID (0: root without
    // capabilities, for set-ups whose shared folders only root may write).
    const uidSetting = env.WMILL_SANDBOX_UID?.trim();
    const uid = uidSetting ? Number(uidSetting) : 65534;
    if (!Number.isInteger(uid) || uid < 0) throw new SandboxError(`WMILL_SANDBOX_UID must be a uid number (got "${uidSetting}")`);
    const drop = root && uid !== 0 ? { uid, gid: uid, setpriv } : {};
    config = { kind: 'bwrap', bwrap, ro: [...packageFiles(), ...list(env.WMILL_SANDBOX_RO)], rw: list(env.WMILL_SANDBOX_RW), hide: (opts.hide ?? []).map((h) => resolve(h)), ...drop };
    why = probe(config);
  }
  if (why) {
    if (s === 'bwrap') throw new SandboxError(`WMILL_SANDBOX=bwrap but the job sandbox cannot start: ${why}; fix that or set WMILL_SANDBOX=none (jobs then run unconfined)`);
    return { mode: 'none', warn: true, line: `warning: job sandbox: none (${why}); jobs run as this server's OS user and can read what it can (WMILL_SANDBOX=bwrap makes this an error)` };
  }
  const who = config!.uid !== undefined ? `as uid ${config!.uid}` : root ? 'as root without capabilities' : 'as this user';
  return { mode: 'bwrap', config, warn: false, line: `job sandbox: bwrap (${who}; read-only system, own job folder and /tmp, no server data)` };
}

/** Run `true` in the sandbox as a job would; undefined when it works, else why not (one line). */
function probe(sb: SandboxConfig): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'wmill-sandbox-probe-'));
  try {
    const env = { PATH: '/usr/bin:/bin' };
    const s = sandboxed(sb, { cmd: 'true', args: [], cwd: dir, env });
    if (s.cmd !== sb.bwrap) return '`true` is not installed';
    const r = spawnSync(s.cmd, s.args, { cwd: dir, env: s.env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 10_000 });
    if (r.error) return `${sb.bwrap}: ${r.error.message}`;
    if (r.status !== 0) return `${sb.bwrap} failed: ${(r.stderr || `exit ${r.status}`).trim().split('\n')[0]}`;
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
