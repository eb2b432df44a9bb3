/**
 * The command-line surface against the real windmill-cli's: its help texts
 * (test/fixtures/real-cli-help.txt, 1.819.0) parsed into commands and flags, compared with our
 * command tree. The test prints every command and flag of theirs we lack, fails when one we
 * must have (sync, generate-metadata, the global options) is missing, and fails when a gap
 * appears that is not in the list of known gaps below (each named, with why). Also: shell
 * completions (run in bash), `wmill config`, usage errors as JSON under --json.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../src/cli.js';
import { commandTree } from '../src/commands/completions.js';
import { BIN, FIXTURES } from './helpers/workspace.js';

interface Section {
  path: string;
  flags: Set<string>;
  commands: Set<string>;
}

/** The real CLI's help file: one section per `$ wmill <path> --help`, with its long/short flags and subcommands. */
function parseRealHelp(text: string): Section[] {
  const sections: Section[] = [];
  let cur: Section | undefined;
  let block: 'options' | 'commands' | 'other' = 'other';
  for (const line of text.split('\n')) {
    const head = /^\$ wmill\s+(.*?)\s*--help$/.exec(line);
    if (head) {
      cur = { path: head[1]!.trim(), flags: new Set(), commands: new Set() };
      sections.push(cur);
      block = 'other';
      continue;
    }
    if (!cur) continue;
    if (/^Options:/.test(line)) block = 'options';
    else if (/^Commands:/.test(line)) block = 'commands';
    else if (/^(Usage|Version|Description|Environment variables):/.test(line)) block = 'other';
    else if (block === 'options') {
      const m = /^ {2}(-[^\s].*?)(?:\s{2,}|\s+<)/.exec(line);
      if (m) for (const f of m[1]!.split(/,\s*/)) if (f.startsWith('-')) cur.flags.add(f.trim());
    } else if (block === 'commands') {
      const m = /^ {2}([a-z][\w-]*(?:, [\w-]+)*)(?:\s|$)/.exec(line);
      if (m) cur.commands.add(m[1]!.split(', ')[0]!);
    }
  }
  return sections;
}

/** Gaps we know of, each with the reason (cloud/instance-only, or not built yet). A new gap not listed here fails the test. */
const KNOWN_GAPS: Record<string, string> = {
  'wmill refresh': 'AI-agent files (AGENTS.md, skills) of windmill-cli: not part of this tool',
  'wmill hub': 'Windmill Hub: cloud-only',
  'wmill dev': 'wmill dev: built elsewhere in this work',
  'wmill lint': 'not built yet (sync push --lint covers the push)',
  'wmill gitsync-settings': 'git-sync settings of a Windmill server (enterprise): not part of wmill serve',
  'wmill protection-rules': 'workspace protection rules (enterprise)',
  'wmill instance': 'instance administration (multi-workspace Windmill instance)',
  'wmill worker-groups': 'instance administration',
  'wmill workers': 'instance administration',
  'wmill queues': 'instance administration',
  'wmill dependencies': 'workspace dependencies push: not built yet',
  'wmill jobs': 'job import/export between instances',
  'wmill audit': 'audit logs (enterprise)',
  'wmill trash': 'not built yet',
  'wmill docs': 'searches windmill.dev documentation (network service)',
  'wmill datatable': 'data tables (cloud)',
  'wmill pipeline': 'asset pipelines (not built yet)',
  'wmill ducklake': 'ducklake (cloud storage)',
  'wmill object-storage': 'workspace object storage (S3, enterprise)',
  'wmill upgrade': 'self-upgrade: wmill is upgraded with npm',
  'wmill version': 'we answer --version / version; `version` as a command is handled before the parser',
  'wmill init --use-default': 'backend git-sync settings: not part of this tool',
  'wmill init --use-backend': 'backend git-sync settings',
  'wmill init --repository': 'backend git-sync settings',
  'wmill init --bind-profile': 'profile binding into wmill.yaml: not built yet',
  'wmill init --no-bind-profile': 'profile binding',
  'wmill script bootstrap': 'alias of script new: not built yet',
  'wmill script set-permissioned-as': 'item command not built yet',
  'wmill script generate-metadata': 'deprecated in windmill-cli (use generate-metadata)',
  'wmill script --json': 'on `script list` here (a bare `wmill script` is not the list)',
  'wmill script --show-archived': 'on `script list` here',
  'wmill flow --show-archived': 'on `flow list` here',
  'wmill script new --summary': 'not built yet',
  'wmill script new --description': 'not built yet',
  'wmill script preview --tag': 'worker tags: previews run locally',
  'wmill script run --tag': 'worker tags',
  'wmill flow generate-locks': 'deprecated in windmill-cli (use generate-metadata)',
  'wmill flow set-permissioned-as': 'item command not built yet',
  'wmill flow --json': 'on `flow list` here (a bare `wmill flow` is not the list)',
  'wmill flow preview --remote': 'previews use local files',
  'wmill flow preview --step': 'single-step preview: not built yet',
  'wmill flow preview --tag': 'worker tags',
  'wmill dev --includes': 'wmill dev: built elsewhere',
  'wmill dev --proxy-port': 'wmill dev: built elsewhere',
  'wmill dev --path': 'wmill dev: built elsewhere',
  'wmill dev --no-open': 'wmill dev: built elsewhere',
  'wmill lint --json': 'lint not built yet',
  'wmill lint --fail-on-warn': 'lint not built yet',
  'wmill lint --locks-required': 'lint not built yet',
  'wmill lint -w': 'lint not built yet',
  'wmill lint --watch': 'lint not built yet',
  'wmill workspace list-forks': 'workspace forks: not built yet',
  'wmill workspace bind': 'not built yet',
  'wmill workspace unbind': 'not built yet',
  'wmill workspace fork': 'workspace forks: not built yet',
  'wmill workspace delete-fork': 'workspace forks',
  'wmill workspace merge': 'workspace forks',
  'wmill workspace connect-slack': 'Slack (cloud integration)',
  'wmill workspace disconnect-slack': 'Slack (cloud integration)',
};

/** What of `real` our tree lacks: "wmill <path>" for a command, "wmill <path> <flag>" for a flag. */
function gaps(real: Section[], ours: ReturnType<typeof commandTree>): string[] {
  const byPath = new Map(ours.map((n) => [n.path, n]));
  const missing: string[] = [];
  for (const s of real) {
    const node = byPath.get(s.path);
    if (!node) {
      missing.push(`wmill ${s.path}`);
      continue;
    }
    const flags = new Set(node.options.flatMap((o) => o.flags));
    for (const f of s.flags) if (!flags.has(f)) missing.push(`wmill ${s.path ? `${s.path} ` : ''}${f}`);
    const subs = new Set(node.subcommands.map((x) => x.name));
    for (const c of s.commands) if (!subs.has(c) && !real.some((r) => r.path === `${s.path ? `${s.path} ` : ''}${c}`)) missing.push(`wmill ${s.path ? `${s.path} ` : ''}${c}`);
  }
  return [...new Set(missing)];
}

describe('the real windmill-cli\'s surface', () => {
  const real = parseRealHelp(readFileSync(join(FIXTURES, 'real-cli-help.txt'), 'utf8'));

  it('the help file parses: the root, sync push/pull and generate-metadata with their flags', () => {
    const push = real.find((s) => s.path === 'sync push')!;
    expect(push.flags).toContain('--skip-variables');
    expect(push.flags).toContain('-i');
    expect(push.flags).toContain('--includes');
    expect(real.find((s) => s.path === '')!.commands).toContain('generate-metadata');
    expect(real.find((s) => s.path === 'generate-metadata')!.flags).toContain('--strict-folder-boundaries');
  });

  it('lists every command and flag of theirs we lack; none of the sync, generate-metadata and global ones; no unknown gap', async () => {
    const ours = commandTree(await buildProgram([]));
    const missing = gaps(real, ours);
    console.log(`Commands and flags of windmill-cli 1.819.0 that wmill lacks (${missing.length}):\n${missing.map((m) => `  ${m}${KNOWN_GAPS[m] ? ` — ${KNOWN_GAPS[m]}` : ''}`).join('\n')}`);
    const central = missing.filter((m) => /^wmill (sync|generate-metadata)\b/.test(m) || /^wmill (--workspace|--debug|--verbose|--show-diffs|--token|--base-url|--config-dir|-h|--help)$/.test(m));
    expect(central).toEqual([]);
    const unknown = missing.filter((m) => !(m in KNOWN_GAPS));
    expect(unknown, 'gaps not in KNOWN_GAPS').toEqual([]);
  });
});

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('completions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wmill-completions-'));

  it('bash: commands, subcommands and options (global ones anywhere, option values skipped) complete in a real bash', () => {
    const r = run(['completions', 'bash'], dir);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(dir, 'wmill.bash'), r.stdout);
    const complete = (words: string[]) => {
      const cword = words.length - 1;
      const script = `source ${JSON.stringify(join(dir, 'wmill.bash'))}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${cword}\n_wmill\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
      const b = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      expect(b.status, b.stderr).toBe(0);
      return b.stdout.split('\n').filter(Boolean).sort();
    };
    expect(complete(['wmill', 'sync', 'p'])).toEqual(['pull', 'push']);
    expect(complete(['wmill', 'sync', 'push', '--skip-re'])).toEqual(['--skip-reencrypt-on-key-change', '--skip-resource-types', '--skip-resources']);
    expect(complete(['wmill', '--workspace', 'prod', 'sync', 'pu'])).toEqual(['pull', 'push']);
    expect(complete(['wmill', 'generate-metadata', '--skip-'])).toEqual(['--skip-apps', '--skip-flows', '--skip-scripts']);
    expect(complete(['wmill', 'sync', 'pull', '--for'])).toEqual(['--force']);
    expect(complete(['wmill', 'gen'])).toEqual(['generate-metadata']);
  });

  it('zsh and fish: a script naming every command and the sync flags; an unknown shell is a usage error', () => {
    const zsh = run(['completions', 'zsh'], dir);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.split('\n')[0]).toBe('#compdef wmill');
    expect(zsh.stdout).toContain("'sync push') subs=()");
    expect(zsh.stdout).toContain("'--include-schedules[include schedules]'");
    const fish = run(['completions', 'fish'], dir);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c wmill -n '__fish_use_subcommand' -a 'sync'");
    expect(fish.stdout).toMatch(/complete -c wmill -n '__fish_seen_subcommand_from push' -l skip-variables/);
    for (const shell of ['zsh', 'fish']) {
      const has = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
      if (has) expect(spawnSync(shell, ['-n'], { input: shell === 'zsh' ? zsh.stdout : fish.stdout }).status, shell).toBe(0);
    }
    const bad = run(['completions', 'tcsh'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown shell 'tcsh'; use bash, zsh or fish");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('config, usage errors as JSON', () => {
  it('wmill config: the table of wmill.yaml keys, and --json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wmill-config-'));
    const t = run(['config'], dir);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^key\s+type\s+default\s+meaning$/m);
    expect(t.stdout).toMatch(/^skipSecrets\s+boolean\s+true\s+/m);
    const j = JSON.parse(run(['config', '--json'], dir).stdout);
    expect(j.ok).toBe(true);
    const keys = j.keys.map((k: { key: string }) => k.key);
    for (const k of ['defaultTs', 'includes', 'workspaces.<name>.gitBranch', 'workspaces.<name>.promotionOverrides', 'python.indexUrl']) expect(keys).toContain(k);
    rmSync(dir, { recursive: true, force: true });
  });

  it('wmill config migrate renames gitBranches to workspaces, keeping comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wmill-config-'));
    writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\n# per branch\ngitBranches:\n  main:\n    baseUrl: http://x/ # prod\n');
    const r = run(['config', 'migrate'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'wmill.yaml'), 'utf8')).toBe('defaultTs: bun\n# per branch\nworkspaces:\n  main:\n    baseUrl: http://x/ # prod\n');
    expect(run(['config', 'migrate'], dir).stdout).toContain('already uses workspaces');
    rmSync(dir, { recursive: true, force: true });
  });

  it('usage errors under --json (or --json-output) are JSON on stdout, with nothing on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wmill-json-'));
    for (const args of [['config', '--json', '--bogus'], ['sync', 'push', '--json-output', '--parallel'], ['generate-metadata', '--json', '--nope']]) {
      const r = run(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      const j = JSON.parse(r.stdout);
      expect(j.ok).toBe(false);
      expect(j.error.code).toBe('usage');
      expect(j.error.message).toMatch(/option/);
      expect(r.stderr).toBe('');
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
