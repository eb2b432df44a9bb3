/**
 * The real windmill-cli's `generate-metadata` (locks included) against `wmill serve`: the server
 * resolves the `dependencies` jobs the CLI queues with our local resolver, so the files the real
 * CLI writes are the files `wmill generate-metadata` writes, byte for byte. Needs the npm
 * registry (windmill-client is resolved), as test/locks-npm.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { real, runNode, tree } from './helpers/sync.js';
import { BIN, REPO } from './helpers/workspace.js';
import { resolverEnv } from '../src/server/dependencies.js';

let srv: TestServer;
let tmp: string;
let cache: string;
const prevCache = process.env.XDG_CACHE_HOME;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-realmeta-'));
  // One resolution cache for both tools (the server resolves in this process).
  cache = join(tmp, 'cache');
  process.env.XDG_CACHE_HOME = cache;
  srv = await startTestServer({ workers: 1 });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (prevCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = prevCache;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** New items besides the examples: no metadata yet, no imports, and a relative import chain. */
const EXTRA: Record<string, string> = {
  'f/extra/plain_py.py': 'def main(x: int = 1):\n    return x\n',
  'f/extra/plain_ts.ts': 'export async function main(s: string) {\n  return s;\n}\n',
  'f/extra/helper.ts': 'import * as wmill from "windmill-client";\n\nexport async function prefix(p: string) {\n  return await wmill.getVariable(p);\n}\n',
  'f/extra/uses_helper.ts': 'import { prefix } from "./helper.ts";\n\nexport async function main(p: string) {\n  return await prefix(p);\n}\n',
};

function copy(name: string): string {
  const dir = join(tmp, name);
  cpSync(join(REPO, 'examples'), dir, { recursive: true });
  rmSync(join(dir, 'wmill-lock.yaml'));
  for (const [rel, text] of Object.entries(EXTRA)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

async function realCli(cwd: string, args: string[]) {
  const cfg = join(tmp, 'cfg');
  const add = await real(cwd, ['workspace', 'add', 'admins', 'admins', srv.url, '--token', srv.token], cfg);
  expect(add.code, add.all).toBe(0);
  return real(cwd, args, cfg);
}

describe('real windmill-cli generate-metadata against wmill serve', () => {
  it('writes the same schemas, locks and hashes as wmill generate-metadata', async () => {
    const oursDir = copy('ours');
    const mine = await runNode([BIN, 'generate-metadata', '--yes'], oursDir, { env: { XDG_CACHE_HOME: cache } });
    expect(mine.code, mine.all).toBe(0);

    const realDir = copy('real');
    const theirs = await realCli(realDir, ['generate-metadata', '--yes']);
    expect(theirs.code, theirs.all).toBe(0);
    expect(theirs.all).not.toContain('Failed');
    expect(theirs.all).toMatch(/Done\. Updated 15 item\(s\)/);

    const a = tree(oursDir);
    const b = tree(realDir);
    // Ours records the lock inputs of scripts with dependencies (`<path>+__lock`, README "Locks");
    // the real CLI does not know these entries. Everything else is the same text.
    const lockLines = a['wmill-lock.yaml']!.split('\n');
    expect(lockLines.filter((l) => l.includes('+__lock:')).map((l) => l.trim().split(':')[0])).toEqual([
      'f/examples/read_config+__lock',
      'f/extra/helper+__lock',
      'f/extra/uses_helper+__lock',
    ]);
    a['wmill-lock.yaml'] = lockLines.filter((l) => !l.includes('+__lock:')).join('\n');
    expect(b).toEqual(a);

    // The locks are real ones: the relative import's dependency reaches its importer through
    // the unsaved version the CLI stored (temp_script_refs), and scripts without imports get
    // the empty bun lock / no Python lock, with the metadata the reference writes for them.
    expect(b['f/examples/read_config.script.lock']).toMatch(/"windmill-client": "\d+\.\d+\.\d+"/);
    expect(b['f/extra/uses_helper.script.lock']).toBe(b['f/extra/helper.script.lock']);
    expect(b['f/extra/uses_helper.script.yaml']).toContain("lock: '!inline f/extra/uses_helper.script.lock'");
    expect(b['f/extra/plain_ts.script.yaml']).toContain("lock: '!inline f/extra/plain_ts.script.lock'");
    expect(b['f/extra/plain_ts.script.lock']).toMatch(/^\{\n {2}"dependencies": \{\}\n\}\n\/\/bun\.lock\n/);
    expect(b['f/extra/plain_py.script.yaml']).toContain("lock: ''");
    expect(Object.keys(b)).not.toContain('f/extra/plain_py.script.lock');

    // Running the real CLI again finds nothing stale, and ours agrees on its files.
    const again = await realCli(realDir, ['generate-metadata', '--yes']);
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('up-to-date');
    const check = await runNode([BIN, 'generate-metadata', '--check'], realDir, { env: { XDG_CACHE_HOME: cache } });
    expect(check.code, check.all).toBe(0);
  }, 300_000);

  it('workspace dependency files (dependencies/package.json) reach the lock as they do in ours', async () => {
    const make = (name: string) => {
      const dir = join(tmp, name);
      mkdirSync(join(dir, 'f/d'), { recursive: true });
      mkdirSync(join(dir, 'dependencies'), { recursive: true });
      writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n  - dependencies/**\n');
      // The file pins an older version than the bare import would get.
      writeFileSync(join(dir, 'dependencies/package.json'), '{\n  "dependencies": {\n    "is-number": "6.0.0"\n  }\n}\n');
      writeFileSync(join(dir, 'f/d/a.ts'), 'import isNumber from "is-number";\nexport async function main(x: number) {\n  return isNumber(x);\n}\n');
      return dir;
    };
    const oursDir = make('deps-ours');
    const mine = await runNode([BIN, 'generate-metadata', '--yes'], oursDir, { env: { XDG_CACHE_HOME: cache } });
    expect(mine.code, mine.all).toBe(0);
    const realDir = make('deps-real');
    const theirs = await realCli(realDir, ['generate-metadata', '--yes']);
    expect(theirs.code, theirs.all).toBe(0);
    const a = tree(oursDir);
    const b = tree(realDir);
    expect(b['f/d/a.script.lock']).toContain('"is-number": "6.0.0"');
    a['wmill-lock.yaml'] = a['wmill-lock.yaml']!.split('\n').filter((l) => !l.includes('+__lock:')).join('\n');
    expect(b).toEqual(a);
  }, 240_000);

  it('npm and pip run on the server without its secrets (a Python sdist build runs setup code)', () => {
    const env = resolverEnv({
      PATH: '/usr/bin', HOME: '/home/w', WMILL_ADMIN_TOKEN: 'secret', DATABASE_URL: 'postgres://u:p@h/db', AWS_SECRET_ACCESS_KEY: 'k',
      PIP_INDEX_URL: 'https://pypi.example/simple', npm_config_registry: 'https://npm.example/', HTTPS_PROXY: 'http://proxy:3128', WM_TOKEN: 't',
    });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/w', PIP_INDEX_URL: 'https://pypi.example/simple', npm_config_registry: 'https://npm.example/', HTTPS_PROXY: 'http://proxy:3128' });
  });

  it('operators cannot queue dependency jobs', async () => {
    const op = srv.api.as(await srv.api.addUser('opal', { operator: true }));
    const r = await op.post('jobs/run/dependencies_async', { raw_scripts: [{ raw_code: 'import requests\n', language: 'python3', script_path: 'f/x/y' }], entrypoint: 'f/x/y' });
    expect(r.status).toBe(403);
    const f = await op.post('jobs/run/flow_dependencies_async', { flow_value: { modules: [] }, path: 'f/x/flow' });
    expect(f.status).toBe(403);
  });

  it('a language wmill serve does not lock fails that script with one clear line', async () => {
    const dir = join(tmp, 'go');
    mkdirSync(join(dir, 'f/g'), { recursive: true });
    writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
    writeFileSync(join(dir, 'f/g/hello.go'), 'package inner\n\nfunc main(x int) (interface{}, error) {\n\treturn x, nil\n}\n');
    const r = await realCli(dir, ['generate-metadata', '--yes']);
    expect(r.all).toContain('Failed to generate lockfile: go locks are not resolved by wmill serve');
  }, 120_000);
});
