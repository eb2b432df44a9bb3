/**
 * What `npm pack` ships, and that it works installed: the tarball is made from a clean copy of
 * the repository (prepack builds dist/), installed into an empty folder from the npm cache, and
 * the installed `wmill` runs: --version, a TypeScript preview using windmill-client, a Python
 * preview, generate-metadata, and `serve` (PGlite). Also: the package's run-time dependencies are
 * exactly the packages dist/ loads from node_modules (what the bundle holds is not installed
 * again), the LICENSE, and the version line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from './helpers/workspace.js';
import { cleanCopy, npmCached } from './helpers/clean-copy.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const version = (args: string[], bin = BIN) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

/** Packages dist/ loads at run time (imports, requires, createRequire(...)(x), require.resolve(x)), by the files that do. */
function externalPackages(dist: string): Map<string, string[]> {
  const spec = `["']((?:@[a-z0-9][\\w.-]*/)?[a-z0-9][\\w.-]*(?:/[\\w.-]+)*)["']`;
  const patterns = [
    new RegExp(`\\bfrom\\s*${spec}`, 'g'),
    new RegExp(`\\bimport\\s*\\(\\s*${spec}\\s*\\)`, 'g'),
    new RegExp(`(?<![\\w$])(?:__)?require\\s*\\(\\s*${spec}\\s*\\)`, 'g'),
    new RegExp(`(?:createRequire|__cr)\\s*\\([^()]*\\)\\s*\\(\\s*${spec}\\s*\\)`, 'g'), // createRequire(import.meta.url)('yaml')
    new RegExp(`\\.resolve\\s*\\(\\s*${spec}`, 'g'), // req.resolve('tsx/esm')
  ];
  const found = new Map<string, string[]>();
  for (const f of readdirSync(dist, { recursive: true }) as string[]) {
    if (!f.endsWith('.mjs')) continue;
    const text = readFileSync(join(dist, f), 'utf8');
    for (const p of patterns) {
      for (const m of text.matchAll(p)) {
        const s = m[1]!;
        if (s.startsWith('node:') || builtinModules.includes(s.split('/')[0]!)) continue;
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        found.set(name, [...(found.get(name) ?? []), f]);
      }
    }
  }
  return found;
}

describe('version and license', () => {
  it('`wmill --version` names this project and the windmill-cli version it is compatible with', () => {
    const cli = pkg.devDependencies['windmill-cli'];
    expect(cli).toMatch(/^\d+\.\d+\.\d+$/); // an exact pin: the version the tests run against
    expect(pkg.dependencies['windmill-client']).toMatch(/^\d+\.\d+\.\d+$/);
    const line = `wmill ${pkg.version} (compatible with windmill-cli ${cli})\n`;
    for (const args of [['--version'], ['-V'], ['version']]) {
      const r = version(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(line);
    }
    // The same line when commander answers (dist/cli.mjs, built with the versions as constants).
    const viaCommander = spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(join(REPO, 'dist/cli.mjs'))}); process.exitCode = await main(['node', 'wmill', '--version']);`], { encoding: 'utf8' });
    expect(viaCommander.status).toBe(0);
    expect(viaCommander.stdout).toBe(line);
  });

  it('`wmill --version --json`: name, version, compatible reference versions, node', () => {
    for (const args of [['--version', '--json'], ['--json', '-V'], ['version', '--json']]) {
      const r = version(args);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        name: 'wmill',
        version: pkg.version,
        compatibleWith: { 'windmill-cli': pkg.devDependencies['windmill-cli'], 'windmill-client': pkg.dependencies['windmill-client'] },
        node: process.version,
      });
    }
  });

  it('LICENSE is the Apache License 2.0, as package.json says', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(join(REPO, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });
});

describe('dependencies', () => {
  it('the run-time dependencies are exactly what dist/ loads from node_modules; bundled packages are dev dependencies', () => {
    const ext = externalPackages(join(REPO, 'dist'));
    // pg's optional native binding, required inside a try/catch by pg (bundled); never installed.
    const OPTIONAL = new Set(['pg-native']);
    const needed = [...ext.keys()].filter((n) => !OPTIONAL.has(n)).sort();
    const deps = Object.keys(pkg.dependencies).sort();
    expect(needed, `dist/ loads ${needed.join(', ')}; package.json dependencies are ${deps.join(', ')}`).toEqual(deps);
    // Bundled packages the product imports are development-time only.
    for (const bundled of ['commander', 'minimatch', 'pg', 'undici']) {
      expect(pkg.dependencies[bundled], bundled).toBeUndefined();
      expect(pkg.devDependencies[bundled], bundled).toBeDefined();
    }
    // execa: no child process goes through it (they need process groups, IPC and early starts
    // that node:child_process gives directly), so it is not a dependency.
    expect(pkg.dependencies.execa).toBeUndefined();
  });
});

describe('npm pack from a clean clone', () => {
  let work: string;
  let clone: string;
  let tarball: string;
  let consumer: string;
  let installedBin: string;
  let packStdout = '';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'wmill-pack-'));
    clone = cleanCopy('wmill-pack-clone-');
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    const ci = npmCached(['ci'], clone);
    expect(ci.status, ci.stderr).toBe(0);
    const pack = spawnSync('npm', ['pack', '--pack-destination', work], { cwd: clone, encoding: 'utf8', timeout: 300_000 });
    expect(pack.status, pack.stderr).toBe(0);
    packStdout = pack.stdout;
    tarball = join(work, `wmill-${pkg.version}.tgz`);
    consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    const install = npmCached(['install', tarball], consumer);
    expect(install.status, install.stderr).toBe(0);
    installedBin = join(consumer, 'node_modules/wmill/bin/wmill.mjs');
  }, 600_000);

  afterAll(() => {
    for (const d of [work, clone]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('npm pack prints only the tarball name on stdout (prepack output stays off it, for pre-commit)', () => {
    expect(packStdout).toBe(`wmill-${pkg.version}.tgz\n`);
  });

  it('the tarball holds the built CLI, the Python helpers, LICENSE and README, and no sources or tests', () => {
    const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/wmill.mjs', 'dist/cli.mjs', 'dist/preview.mjs', 'python/wmill/__init__.py', 'python/wmill_sig.py']) {
      expect(list, f).toContain(f);
    }
    expect(list.filter((f) => /^(src|test|bench|scripts|examples|node_modules)\//.test(f) || f.includes('__pycache__'))).toEqual([]);
  });

  it('installing it installs the run-time dependencies and none of the bundled ones', () => {
    const nm = join(consumer, 'node_modules');
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(nm, dep, 'package.json')), dep).toBe(true);
    for (const bundled of ['commander', 'minimatch', 'pg', 'undici', 'execa', 'esbuild-register', 'vitest', 'windmill-cli']) {
      expect(existsSync(join(nm, bundled)), bundled).toBe(false);
    }
  });

  it('the installed wmill answers --version', () => {
    const r = version(['--version'], installedBin);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wmill ${pkg.version} (compatible with windmill-cli ${pkg.devDependencies['windmill-cli']})\n`);
    expect(JSON.parse(version(['--version', '--json'], installedBin).stdout).version).toBe(pkg.version);
  });

  it('the installed wmill previews TypeScript (with windmill-client) and Python, and generates metadata', () => {
    const ws = join(work, 'ws');
    mkdirSync(join(ws, 'f/t'), { recursive: true });
    writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\n');
    writeFileSync(join(ws, 'f/t/hello.ts'), "import * as wmill from 'windmill-client';\nexport async function main(name: string) {\n  return { hello: name, v: await wmill.getVariable('f/t/greeting') };\n}\n");
    writeFileSync(join(ws, 'f/t/greeting.variable.yaml'), "value: hi there\nis_secret: false\ndescription: ''\n");
    writeFileSync(join(ws, 'f/t/double.py'), 'def main(x: int, label: str = "n"):\n    return {label: x * 2}\n');
    const run = (args: string[]) => spawnSync(process.execPath, [installedBin, ...args], { cwd: ws, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

    const ts = run(['script', 'preview', 'f/t/hello.ts', '-d', '{"name":"Ada"}']);
    expect(ts.status, ts.stderr).toBe(0);
    expect(JSON.parse(ts.stdout)).toEqual({ hello: 'Ada', v: 'hi there' });
    const py = run(['script', 'preview', 'f/t/double.py', '-d', '{"x":21}']);
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual({ n: 42 });

    const gen = run(['generate-metadata', '--schema-only', '--yes']);
    expect(gen.status, gen.stderr).toBe(0);
    expect(readFileSync(join(ws, 'f/t/double.script.yaml'), 'utf8')).toContain('label:');
    expect(readFileSync(join(ws, 'f/t/hello.script.yaml'), 'utf8')).toContain('name:');
    const check = run(['generate-metadata', '--schema-only', '--check']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  }, 300_000);

  it('the installed wmill serves (embedded PGlite)', async () => {
    const data = join(work, 'serve-data');
    const child = spawn(process.execPath, [installedBin, 'serve', '--port', '0', '--data', data, '--json'], { env: { ...process.env, WMILL_ADMIN_TOKEN: 'packaging_test_token_0123' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`wmill serve exited (${code}): ${stderr}`)));
      });
      const { url } = JSON.parse(line);
      const res = await fetch(new URL('api/version', url));
      expect(res.status).toBe(200);
      const me = await fetch(new URL('api/users/whoami', url), { headers: { authorization: 'Bearer packaging_test_token_0123' } });
      expect(me.status).toBe(200);
      // the web UI: the sign-in page, and the client bundle shipped in dist/ui/
      expect((await fetch(new URL('login', url))).status).toBe(200);
      const ui = await fetch(new URL('ui/app.js', url));
      expect(ui.status).toBe(200);
      expect(await ui.text()).not.toContain('the web UI bundle is missing');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  }, 300_000);
});
