// Local lock resolution: the pure parts (annotations, import → distribution names, requests, the
// bun lock format) and, end to end through the built CLI, Python locks resolved by the real pip
// against a local folder of hand-made wheels (--no-index: the code path a user with PyPI takes).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';
import { buildWheels } from './helpers/wheels.js';
import { extractDepsAnnotation, selectDependencyFiles } from '../src/metadata/locks/annotations.js';
import { inferPythonRequirements } from '../src/metadata/locks/python-names.js';
import { LockInputs, loadLockParsers, type LockScript } from '../src/metadata/locks/request.js';
import { bunLockFromPackageLock, parseBunLock, EMPTY_BUN_LOCK } from '../src/metadata/locks/npm.js';
import { diffVersions, isEmptyLock, lockVersions } from '../src/metadata/locks/versions.js';
import { installUncoordinated, packageLockFromBunLock } from '../src/metadata/locks/install.js';
import { loadConfig } from '../src/workspace/config.js';
import { pythonExternalImports } from '../src/metadata/parsers/python.js';

const inputs = (scripts: (Omit<LockScript, 'imports'> & { imports?: string[] })[], deps: Record<string, string> = {}) =>
  new LockInputs(new Map(scripts.map((s) => [s.path, { imports: [], ...s }])), new Map(Object.entries(deps)));

describe('dependency requests (pure)', () => {
  beforeAll(() => loadLockParsers());

  it('reads annotations as the reference does: manual/extra mode, names, inline requirements', () => {
    expect(extractDepsAnnotation('# requirements:\n#requests==2.31.0\n# pandas\nimport x\n', 'python3')).toEqual({
      mode: 'manual', names: [], inline: 'requests==2.31.0\npandas',
    });
    expect(extractDepsAnnotation('# extra_requirements: ml, default\nimport x\n', 'python3')).toEqual({ mode: 'extra', names: ['ml', 'default'], inline: null });
    expect(extractDepsAnnotation('// package_json: api\n// {"dependencies": {"ms": "2.1.3"}}\nexport {}\n', 'bun')!.inline).toBe(' {"dependencies": {"ms": "2.1.3"}}');
    expect(extractDepsAnnotation('import x\n', 'python3')).toBeNull();
    const avail = new Set(['dependencies/requirements.in', 'dependencies/ml.requirements.in']);
    expect(selectDependencyFiles('import x\n', 'python3', avail)).toMatchObject({ files: ['dependencies/requirements.in'], infer: false });
    expect(selectDependencyFiles('# extra_requirements: ml, nope\n', 'python3', avail)).toMatchObject({
      files: ['dependencies/ml.requirements.in'], infer: true, missing: ['dependencies/nope.requirements.in'],
    });
    expect(selectDependencyFiles('import x\n', 'python3', new Set(['dependencies/extra.requirements.in']))).toMatchObject({ files: ['dependencies/extra.requirements.in'], infer: true });
  });

  it('maps Python imports to distribution names, namespace packages included', () => {
    const code = [
      'import yaml', 'from PIL import Image', 'import cv2', 'from sklearn.linear_model import X', 'from bs4 import BeautifulSoup',
      'from dateutil import parser', 'import dotenv', 'import jwt', 'import psycopg2', 'from google.cloud import storage, bigquery',
      'import google.cloud.pubsub_v1', 'from azure.storage.blob import BlobClient', 'import my_pkg.sub', 'import requests', 'import os',
      '', 'def main():', '    import notatop', '',
    ].join('\n');
    expect(inferPythonRequirements(code, pythonExternalImports(code))).toEqual([
      'Pillow', 'PyJWT', 'PyYAML', 'azure-storage-blob', 'beautifulsoup4', 'google-cloud-bigquery', 'google-cloud-pubsub-v1',
      'google-cloud-storage', 'my-pkg', 'opencv-python', 'psycopg2-binary', 'python-dateutil', 'python-dotenv', 'requests', 'scikit-learn',
    ]);
  });

  it('builds one request over the relative-import closure, honouring pins, annotations and dependency files', () => {
    const li = inputs([
      { path: 'f/a/x', language: 'bun', content: 'import a from "is-number";\nimport o from "npm:is-odd@^2.0.0";\nimport h from "../lib/h.ts";\n', imports: ['f/lib/h'] },
      { path: 'f/lib/h', language: 'bun', content: 'import o from "is-odd@3.0.1";\nimport fs from "node:fs";\nimport "./y";\n', imports: [] },
      { path: 'f/a/y', language: 'bun', content: '// package_json: api\nimport z from "left-pad";\n' },
      { path: 'f/a/p', language: 'python3', content: 'import yaml\nfrom f.lib.util import u\n', imports: ['f/lib/util'] },
      { path: 'f/lib/util', language: 'python3', content: 'import requests\n' },
      { path: 'f/a/q', language: 'python3', content: '# requirements: ml\n#Requests==2.31.0\nimport yaml\n' },
      { path: 'f/a/r', language: 'python3', content: '# extra_requirements: ml\nimport requests\n' },
    ], { 'dependencies/api.package.json': '{"dependencies": {"ms": "^2"}}', 'dependencies/ml.requirements.in': '# ml stack\nwmtest-beta == 1.0.0\nrequests>=2\n' });
    const req = (p: string) => {
      const r = li.request(p);
      if ('error' in r) throw new Error(r.error);
      return r.request.entries;
    };
    // helper's externals come along; node: builtins skipped; the lowest of two asked versions wins
    expect(req('f/a/x')).toEqual([['is-number', 'latest'], ['is-odd', '^2.0.0']]);
    expect(req('f/lib/h')).toEqual([['is-odd', '3.0.1']]); // a pinned import keeps its pin
    expect(req('f/a/y')).toEqual([['ms', '^2']]); // manual mode: the import is not inferred
    expect(req('f/a/p')).toEqual(['pyyaml', 'requests']);
    expect(req('f/a/q')).toEqual(['requests==2.31.0', 'requests>=2', 'wmtest-beta==1.0.0']);
    expect(req('f/a/r')).toEqual(['requests>=2', 'wmtest-beta==1.0.0']); // the constrained entry replaces the bare one
    expect(li.request('f/a/none' as string)).toEqual({ error: 'unknown script' });
    const bad = inputs([{ path: 'f/a/z', language: 'python3', content: '# requirements: nope\n' }]);
    expect(bad.request('f/a/z')).toEqual({ error: 'the dependency annotation names dependencies/nope.requirements.in, which does not exist' });
  });

  it('writes and reads the bun lock format; converts it back to an npm package-lock', () => {
    const text = bunLockFromPackageLock(['is-odd', '@s/p'], {
      '': {},
      'node_modules/is-odd': { version: '3.0.1', integrity: 'sha512-A', dependencies: { 'is-number': '^6.0.0' } },
      'node_modules/is-odd/node_modules/is-number': { version: '6.0.0', integrity: 'sha512-B' },
      'node_modules/is-number': { version: '7.0.0', integrity: 'sha512-C' },
      'node_modules/@s/p': { version: '1.2.3', integrity: 'sha512-D', bin: { p: 'cli.js' } },
      'node_modules/@s/p/node_modules/@t/q': { version: '0.1.0', integrity: 'sha512-E' },
    });
    const [pj, lock] = text.split('\n//bun.lock\n');
    expect(JSON.parse(pj!)).toEqual({ dependencies: { '@s/p': '1.2.3', 'is-odd': '3.0.1' } });
    expect(lock).toContain('"is-odd": ["is-odd@3.0.1", "", { "dependencies": { "is-number": "^6.0.0" } }, "sha512-A"],');
    expect(lock).toContain('"@s/p/@t/q": ["@t/q@0.1.0", "", {}, "sha512-E"],');
    expect(parseBunLock(text).bunLock!.workspaces![''].dependencies).toEqual({ '@s/p': '1.2.3', 'is-odd': '3.0.1' });
    expect([...lockVersions('npm', text)]).toEqual([['@s/p', '1.2.3'], ['@t/q', '0.1.0'], ['is-number', '6.0.0, 7.0.0'], ['is-odd', '3.0.1']]);
    const back = packageLockFromBunLock(text).packageLock as { packages: Record<string, any> };
    expect(back.packages['node_modules/@s/p/node_modules/@t/q']).toEqual({ version: '0.1.0', integrity: 'sha512-E' });
    expect(back.packages['node_modules/is-odd/node_modules/is-number'].version).toBe('6.0.0');
    expect(back.packages['node_modules/@s/p'].bin).toEqual({ p: 'cli.js' });
    expect(isEmptyLock('npm', EMPTY_BUN_LOCK)).toBe(true);
    expect(isEmptyLock('npm', '{"dependencies": {}}\n//bun.lock\n')).toBe(true);
    expect(isEmptyLock('npm', text)).toBe(false);
    expect(diffVersions(lockVersions('pip', 'a==1\nb==2\n'), lockVersions('pip', 'b==3\nc==1'))).toEqual([
      { name: 'a', from: '1', to: null }, { name: 'b', from: '2', to: '3' }, { name: 'c', from: null, to: '1' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end with pip and local wheels
// ---------------------------------------------------------------------------------------------

const dirs: string[] = [];
let wheels: string;
let cache: string;
beforeAll(() => {
  wheels = mkdtempSync(join(tmpdir(), 'wmill-wheels-'));
  buildWheels(wheels, [
    { name: 'wmtest-alpha', version: '1.0.0', requires: ['wmtest-beta>=1.0'] },
    { name: 'wmtest-beta', version: '1.0.0' },
    { name: 'wmtest-beta', version: '1.1.0' },
    { name: 'PyYAML', version: '6.0.1', module: 'yaml' },
  ]);
});
afterAll(() => removeDir(wheels));
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

const pyYaml = (extra = '') => `defaultTs: bun\nincludes:\n  - f/**\npython:\n  noIndex: true\n  findLinks:\n    - ${wheels}\n${extra}`;
const ws = (files: Record<string, string>, yaml = pyYaml()) => {
  const d = makeWorkspace(files, yaml);
  dirs.push(d);
  return d;
};
const newCache = () => {
  const c = mkdtempSync(join(tmpdir(), 'wmill-cache-'));
  dirs.push(c);
  return c;
};
// Hermetic pip: no machine pip.conf, find-links only our folder.
const run = (d: string, args: string[], env: Record<string, string> = {}) =>
  wmill(d, args, { env: { XDG_CACHE_HOME: cache, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: wheels, ...env } });
const json = (d: string, args: string[], env?: Record<string, string>) => {
  const r = run(d, [...args, '--json'], env);
  return { ...r, j: JSON.parse(r.stdout) };
};
const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');
const lockEntries = (d: string) => parse(read(d, 'wmill-lock.yaml')).locks as Record<string, string>;
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out[r] = readFileSync(join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
}

const X_PY = 'import wmtest_alpha\nimport yaml\nimport os\n\ndef main(n: int = 1):\n    return n\n';

describe('Python locks with pip (local wheels, --no-index)', () => {
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'wmill-cache-'));
  });
  afterAll(() => removeDir(cache));

  it('pins every distribution, transitive ones included; scripts sharing imports share one resolution; a second run changes nothing', () => {
    cache = newCache();
    const d = ws({ 'f/a/x.py': X_PY, 'f/a/twin.py': X_PY.replace('n: int', 'm: int'), 'f/a/plain.py': 'def main():\n    return 1\n', 'f/a/s.sh': 'x="$1"\n' });
    const r = json(d, ['generate-metadata', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    // yaml → PyYAML; wmtest-alpha brings wmtest-beta (Requires-Dist), the highest available
    expect(read(d, 'f/a/x.script.lock')).toBe('pyyaml==6.0.1\nwmtest-alpha==1.0.0\nwmtest-beta==1.1.0');
    expect(read(d, 'f/a/twin.script.lock')).toBe(read(d, 'f/a/x.script.lock'));
    expect(r.j.lockStats).toEqual({ sets: 1, resolutions: 1, cacheHits: 0 });
    expect(parse(read(d, 'f/a/x.script.yaml')).lock).toBe('!inline f/a/x.script.lock');
    // no dependencies: no lock file, lock '' (and nothing for bash)
    expect(parse(read(d, 'f/a/plain.script.yaml')).lock).toBe('');
    expect(existsSync(join(d, 'f/a/plain.script.lock'))).toBe(false);
    expect(existsSync(join(d, 'f/a/s.script.lock'))).toBe(false);
    const entries = lockEntries(d);
    expect(Object.keys(entries).sort()).toEqual(['f/a/plain', 'f/a/s', 'f/a/twin', 'f/a/twin+__lock', 'f/a/x', 'f/a/x+__lock']);
    expect(r.j.lockChanges.find((c: any) => c.path === 'f/a/x')).toEqual({
      path: 'f/a/x', file: 'f/a/x.py', created: true,
      changes: [
        { name: 'pyyaml', from: null, to: '6.0.1' },
        { name: 'wmtest-alpha', from: null, to: '1.0.0' },
        { name: 'wmtest-beta', from: null, to: '1.1.0' },
      ],
    });
    const before = snapshot(d);
    const again = json(d, ['generate-metadata', '--yes']);
    expect(again.j.stale).toEqual([]);
    expect(snapshot(d)).toEqual(before);
    expect(run(d, ['generate-metadata', '--check']).code).toBe(0);
    // a fresh checkout on the same machine resolves nothing: the persistent cache answers
    const d2 = ws({ 'f/b/y.py': X_PY });
    const r2 = json(d2, ['generate-metadata', '--yes']);
    expect(r2.j.lockStats).toEqual({ sets: 1, resolutions: 0, cacheHits: 1 });
    expect(read(d2, 'f/b/y.script.lock')).toBe(read(d, 'f/a/x.script.lock'));
  });

  it('re-locks importers of a changed helper, detects a hand edit, and reports version changes', () => {
    cache = newCache();
    const d = ws({
      'f/lib/helper.py': 'def h():\n    return 1\n\ndef main():\n    return h()\n',
      'f/a/user.py': 'from f.lib.helper import h\n\ndef main():\n    return h()\n',
    });
    expect(run(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(parse(read(d, 'f/a/user.script.yaml')).lock).toBe('');
    // the helper gains a dependency: its importer's lock must have it too (windmill #2882)
    writeFileSync(join(d, 'f/lib/helper.py'), 'import wmtest_beta\n\ndef h():\n    return 1\n\ndef main():\n    return h()\n');
    const plan = run(d, ['generate-metadata', '--dry-run']);
    expect(plan.stdout).toContain('~ f/a/user.py — depends on f/lib/helper');
    const r = run(d, ['generate-metadata', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(read(d, 'f/a/user.script.lock')).toBe('wmtest-beta==1.1.0');
    expect(parse(read(d, 'f/a/user.script.yaml')).lock).toBe('!inline f/a/user.script.lock');
    expect(r.stdout).toMatch(/f\/a\/user\.py: new lock, 1 package\(s\): wmtest-beta 1\.1\.0/);

    // a hand edit of a lock is stale (the reference cannot see it), and regenerating restores it
    writeFileSync(join(d, 'f/a/user.script.lock'), 'wmtest-beta==1.0.0');
    const check = run(d, ['generate-metadata', '--check']);
    expect(check.code).toBe(3);
    expect(check.stdout).toContain('~ f/a/user.py — lock edited by hand');
    expect(check.stdout).not.toContain('helper');
    const fix = run(d, ['generate-metadata', '--yes']);
    expect(fix.stdout).toContain('wmtest-beta 1.0.0 -> 1.1.0');
    expect(read(d, 'f/a/user.script.lock')).toBe('wmtest-beta==1.1.0');
    rmSync(join(d, 'f/a/user.script.lock'));
    expect(run(d, ['generate-metadata', '--dry-run']).stdout).toContain('~ f/a/user.py — lock file missing');
    expect(run(d, ['generate-metadata', '--yes']).code).toBe(0);

    // a new release is picked up only on request (the cached resolution keeps locks stable)
    buildWheels(wheels, [{ name: 'wmtest-beta', version: '1.2.0' }]);
    try {
      appendFileSync(join(d, 'f/a/user.py'), '# edited\n');
      expect(run(d, ['generate-metadata', '--yes']).stdout).not.toContain('->');
      expect(read(d, 'f/a/user.script.lock')).toBe('wmtest-beta==1.1.0');
      const up = json(d, ['generate-metadata', '--yes', '--refresh-locks']);
      expect(up.code, up.stderr).toBe(0);
      expect(up.j.stale.map((s: any) => s.reason)).toEqual(['lock refresh requested', 'lock refresh requested']);
      expect(up.j.lockChanges).toEqual([
        { path: 'f/a/user', file: 'f/a/user.py', created: false, changes: [{ name: 'wmtest-beta', from: '1.1.0', to: '1.2.0' }] },
        { path: 'f/lib/helper', file: 'f/lib/helper.py', created: false, changes: [{ name: 'wmtest-beta', from: '1.1.0', to: '1.2.0' }] },
      ]);
      const text = run(d, ['generate-metadata', '--yes', '--refresh-locks']);
      expect(text.stdout).not.toContain('->'); // nothing newer
    } finally {
      rmSync(join(wheels, 'wmtest_beta-1.2.0-py3-none-any.whl'));
    }
  });

  it('uses the dependency files an annotation names, and re-locks when one changes', () => {
    cache = newCache();
    const d = ws({
      'dependencies/ml.requirements.in': 'wmtest-beta==1.0.0\n',
      'f/a/m.py': '# requirements: ml\nimport yaml\n\ndef main():\n    return 1\n',
    });
    expect(run(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(read(d, 'f/a/m.script.lock')).toBe('wmtest-beta==1.0.0'); // manual mode: yaml not inferred
    writeFileSync(join(d, 'dependencies/ml.requirements.in'), 'wmtest-alpha\n');
    const plan = run(d, ['generate-metadata', '--dry-run']);
    expect(plan.stdout).toContain('~ f/a/m.py — depends on dependencies/ml.requirements.in');
    expect(run(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(read(d, 'f/a/m.script.lock')).toBe('wmtest-alpha==1.0.0\nwmtest-beta==1.1.0');
  });

  it('--schema-only leaves locks and their entries alone', () => {
    cache = newCache();
    const d = ws({
      'f/a/x.py': X_PY,
      'f/a/x.script.lock': 'kept==1.0',
      'f/a/x.script.yaml': "summary: ''\ndescription: ''\nlock: '!inline f/a/x.script.lock'\nkind: script\nschema: {}\n",
    });
    const r = json(d, ['generate-metadata', '--yes', '--schema-only']);
    expect(r.code).toBe(0);
    expect(r.j.lockStats.sets).toBe(0);
    expect(read(d, 'f/a/x.script.lock')).toBe('kept==1.0');
    expect(parse(read(d, 'f/a/x.script.yaml')).lock).toBe('!inline f/a/x.script.lock');
    expect(Object.keys(lockEntries(d))).toEqual(['f/a/x']);
    // a lock made elsewhere (no +__lock entry) is not stale; --lock-only regenerates it
    expect(run(d, ['generate-metadata', '--check']).code).toBe(0);
    const lo = run(d, ['generate-metadata', '--lock-only', '--dry-run']);
    expect(lo.stdout).toContain('~ f/a/x.py — no recorded lock hash');
  });

  it('an unreachable index or registry: one line naming the script, exit 1, old lock and metadata untouched', async () => {
    cache = newCache();
    const port = await closedPort();
    const meta = "summary: ''\ndescription: ''\nlock: '!inline f/a/x.script.lock'\nkind: script\nschema: {}\n";
    const d = ws(
      {
        'f/a/x.py': X_PY,
        'f/a/x.script.lock': 'old==1.0',
        'f/a/x.script.yaml': meta,
        'f/a/t.ts': 'import isNumber from "is-number";\nexport async function main() { return isNumber(1); }\n',
        'f/a/t.script.lock': 'OLD',
        'f/a/t.script.yaml': meta.replace('x.script.lock', 't.script.lock'),
      },
      `includes:\n  - f/**\npython:\n  indexUrl: http://127.0.0.1:${port}/simple\n`,
    );
    const r = wmill(d, ['generate-metadata', '--yes'], {
      env: { XDG_CACHE_HOME: cache, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', npm_config_registry: `http://127.0.0.1:${port}/` },
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.includes('cannot resolve'));
    expect(lines).toEqual([
      `f/a/t.ts: cannot resolve dependencies (registry http://127.0.0.1:${port}/ unreachable): connect ECONNREFUSED 127.0.0.1:${port}`,
      `f/a/x.py: cannot resolve dependencies (index http://127.0.0.1:${port}/simple unreachable): connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
    expect(read(d, 'f/a/x.script.lock')).toBe('old==1.0');
    expect(read(d, 'f/a/t.script.lock')).toBe('OLD');
    expect(read(d, 'f/a/x.script.yaml')).toBe(meta);
    expect(lockEntries(d)).toEqual({});
  });

  it('ensureInstalled: racing installers end with one content-addressed --target folder', async () => {
    cache = newCache();
    const prev = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, PIP_CONFIG_FILE: process.env.PIP_CONFIG_FILE, PIP_FIND_LINKS: process.env.PIP_FIND_LINKS };
    Object.assign(process.env, { XDG_CACHE_HOME: cache, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: wheels });
    try {
      const d = ws({});
      const cfg = loadConfig(d);
      const lock = 'pyyaml==6.0.1\nwmtest-alpha==1.0.0\nwmtest-beta==1.1.0';
      const [a, b] = await Promise.all([installUncoordinated('python3', lock, { cfg }), installUncoordinated('python3', lock, { cfg })]);
      expect(a).toBe(b);
      expect(readdirSync(join(a, '..'))).toEqual([a.split('/').pop()]); // the loser's temp folder is gone
      const py = spawnSync('python3', ['-c', 'import wmtest_beta, yaml; print(wmtest_beta.__version__, yaml.NAME)'], {
        env: { ...process.env, PYTHONPATH: a }, encoding: 'utf8',
      });
      expect(py.stdout.trim()).toBe('1.1.0 PyYAML');
    } finally {
      for (const [k, v] of Object.entries(prev)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
