/**
 * python3 behind a version-manager shim is resolved once to the real interpreter and cached by
 * what the shim decides by (util/python.ts). The shim here is a real script that counts its
 * runs and execs the real interpreter, as pyenv's does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearPythonMemo, resolvePython } from '../src/util/python.js';
import { removeDir } from './helpers/workspace.js';

const real = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), 'wmill-pyshim-'));
afterAll(() => removeDir(dir));

function shimEnv(): NodeJS.ProcessEnv {
  const root = join(dir, 'pyenv');
  mkdirSync(join(root, 'shims'), { recursive: true });
  const shim = join(root, 'shims', 'python3');
  writeFileSync(shim, `#!/bin/sh\necho run >> ${JSON.stringify(join(dir, 'runs'))}\nexec ${JSON.stringify(real)} "$@"\n`);
  chmodSync(shim, 0o755);
  writeFileSync(join(root, 'version'), '3.x\n');
  const { WMILL_PYTHON: _w, PYENV_VERSION: _v, ...env } = process.env;
  return { ...env, PATH: `${join(root, 'shims')}:${process.env.PATH}`, PYENV_ROOT: root, WMILL_CACHE_DIR: join(dir, 'cache') };
}

const runs = () => readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;

describe('python3 resolution', () => {
  it('asks the shim once, then answers from the cache until a version file changes', () => {
    const env = shimEnv();
    clearPythonMemo();
    expect(resolvePython('python3', env)).toBe(real);
    expect(runs()).toBe(1);
    clearPythonMemo(); // a new process: the cache file answers
    expect(resolvePython('python3', env)).toBe(real);
    expect(runs()).toBe(1);
    writeFileSync(join(env.PYENV_ROOT!, 'version'), '3.y\n');
    clearPythonMemo();
    expect(resolvePython('python3', env)).toBe(real);
    expect(runs()).toBe(2);
    // Another PYENV_VERSION is another answer.
    clearPythonMemo();
    resolvePython('python3', { ...env, PYENV_VERSION: 'system' });
    expect(runs()).toBe(3);
  });

  it('WMILL_PYTHON wins; a real binary first on PATH is used as it is', () => {
    const env = shimEnv();
    clearPythonMemo();
    expect(resolvePython('python3', { ...env, WMILL_PYTHON: '/opt/py/bin/python3' })).toBe('/opt/py/bin/python3');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(real, join(bin, 'python3'));
    clearPythonMemo();
    expect(resolvePython('python3', { ...env, PATH: `${bin}:${env.PATH}` })).toBe('python3');
  });

  it('a broken cache file is ignored and rewritten', () => {
    const env = shimEnv();
    mkdirSync(env.WMILL_CACHE_DIR!, { recursive: true });
    writeFileSync(join(env.WMILL_CACHE_DIR!, 'python-resolved.json'), '{not json');
    clearPythonMemo();
    expect(resolvePython('python3', { ...env, PYENV_VERSION: 'other' })).toBe(real);
    expect(JSON.parse(readFileSync(join(env.WMILL_CACHE_DIR!, 'python-resolved.json'), 'utf8'))).toBeTypeOf('object');
  });
});
