/**
 * Where taskScript / taskFlow targets point (src/runner/wac/tasks.ts), and preview's resolution
 * from the workspace's files (src/runner/wac/local-tasks.ts): Windmill paths, paths relative to
 * the workflow, the workflow script's modules (`<script>__mod/<file>`), includes/excludes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { taskNotFound, taskTarget } from '../src/runner/wac/tasks.js';
import { LocalTasks } from '../src/runner/wac/local-tasks.js';
import { loadConfig } from '../src/workspace/config.js';
import type { JobRecord } from '../src/runner/types.js';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe('taskTarget', () => {
  it('takes Windmill paths as they are and resolves relative ones against the workflow', () => {
    expect(taskTarget('f/w/main', 'f/data/extract')).toEqual({ path: 'f/data/extract' });
    expect(taskTarget('f/w/main', '/f/data/extract')).toEqual({ path: 'f/data/extract' });
    expect(taskTarget('f/w/main', './helper.ts')).toEqual({ path: 'f/w/helper', module: 'helper.ts' });
    expect(taskTarget('f/w/main', './helper.py')).toEqual({ path: 'f/w/helper', module: 'helper.py' });
    expect(taskTarget('f/w/main', './helper')).toEqual({ path: 'f/w/helper', module: 'helper' });
    expect(taskTarget('f/w/main', './sub/x.bun.ts')).toEqual({ path: 'f/w/sub/x', module: 'sub/x.bun.ts' });
    expect(taskTarget('f/w/main', '../lib/x.ts')).toEqual({ path: 'f/lib/x' });
    expect(taskTarget('u/alice/deep/main', '../../bob/y.py')).toEqual({ path: 'u/bob/y' });
  });

  it('refuses targets outside the workspace and empty ones', () => {
    expect(taskTarget('f/w/main', '../../../etc/passwd')).toBeUndefined();
    expect(taskTarget('f/w/main', '../../x.ts')).toBeUndefined();
    expect(taskTarget('f/w/main', '')).toBeUndefined();
    expect(taskTarget('f/w/main', 'f/../etc')).toBeUndefined();
    expect(taskTarget('f/w/main', 'hub/123')).toBeUndefined();
  });

  it('says what a relative target was resolved to when nothing is there', () => {
    expect(taskNotFound('script', 'f/w/main', './nothere.ts')).toBe('script ./nothere.ts not found (resolved against f/w/main: no module f/w/main__mod/nothere.ts, no script f/w/nothere)');
    expect(taskNotFound('flow', 'f/w/main', './sub')).toBe('flow ./sub not found (resolved against f/w/main: no flow f/w/sub)');
    expect(taskNotFound('script', 'f/w/main', 'f/x/y')).toBe('script f/x/y not found');
    expect(taskNotFound('script', 'f/w/main', '../../../x')).toMatch(/is not a path in the workspace/);
  });
});

describe('preview: tasks from the workspace files', () => {
  const files: Record<string, string> = {
    'f/w/main.ts': 'export const x = 1;\n',
    'f/w/helper.py': 'def main(x: int):\n    return x\n',
    'f/w/main__mod/mod.ts': 'export async function main(y: number, z: string = "q") { return y; }\n',
    'f/w/dup.ts': 'export async function main() {}\n',
    'f/w/dup.py': 'def main():\n    pass\n',
    'f/w/folder__mod/script.ts': 'export async function main(b: boolean) { return b; }\n',
    'f/w/pipe__flow/flow.yaml': 'summary: p\nvalue:\n  modules: []\nschema: {}\n',
    'f/secret/hidden.ts': 'export async function main() {}\n',
  };
  const ws = makeWorkspace(files, 'defaultTs: bun\nincludes:\n  - f/**\nexcludes:\n  - f/secret/**\n');
  dirs.push(ws);
  const tasks = new LocalTasks(loadConfig(ws));
  const job = { path: 'f/w/main' } as JobRecord;

  it('finds a script by path (flat or __mod/script layout), a flow folder, a module of the workflow', async () => {
    expect(await tasks.resolveTask(job, { script: 'f/w/helper', dispatch_type: 'script' })).toMatchObject({ kind: 'preview', path: 'f/w/helper', language: 'python3', file: join(ws, 'f/w/helper.py') });
    expect(await tasks.resolveTask(job, { script: './helper.py', dispatch_type: 'script' })).toMatchObject({ path: 'f/w/helper', language: 'python3' });
    expect(await tasks.resolveTask(job, { script: 'f/w/folder', dispatch_type: 'script' })).toMatchObject({ path: 'f/w/folder', language: 'bun', argNames: ['b'] });
    const mod = await tasks.resolveTask(job, { script: './mod.ts', dispatch_type: 'script' });
    expect(mod).toMatchObject({ path: 'f/w/main', language: 'bun', file: join(ws, 'f/w/main__mod/mod.ts'), argNames: ['y', 'z'] });
    expect(await tasks.resolveTask(job, { script: './pipe', dispatch_type: 'flow' })).toMatchObject({ kind: 'flow', path: 'f/w/pipe', flow: { modules: [] } });
  });

  it('finds nothing outside the includes, for a missing path, or for a flow asked as a script', async () => {
    expect(await tasks.resolveTask(job, { script: 'f/secret/hidden', dispatch_type: 'script' })).toBeUndefined();
    expect(await tasks.resolveTask(job, { script: './nothere.ts', dispatch_type: 'script' })).toBeUndefined();
    expect(await tasks.resolveTask(job, { script: 'f/w/pipe', dispatch_type: 'script' })).toBeUndefined();
    expect(await tasks.resolveTask(job, { script: '../../../../etc/passwd', dispatch_type: 'script' })).toBeUndefined();
  });

  it('two files for one path is an error naming both', async () => {
    await expect(tasks.resolveTask(job, { script: 'f/w/dup', dispatch_type: 'script' })).rejects.toThrow(/f\/w\/dup: more than one script file \(f\/w\/dup\.py, f\/w\/dup\.ts\)/);
  });

  it('a workflow in preview: a missing target is a TaskError naming what was looked for', () => {
    const w = makeWorkspace({
      'f/w/wf.ts': 'import { workflow, taskScript } from "windmill-client";\nconst missing = taskScript("./nothere.ts");\nexport const main = workflow(async () => {\n  try {\n    await missing({});\n    return "no error";\n  } catch (e: any) {\n    return e.name + ": " + e.message;\n  }\n});\n',
    });
    dirs.push(w);
    const r = wmill(w, ['script', 'preview', 'f/w/wf.ts', '-s']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe('TaskError: script ./nothere.ts not found (resolved against f/w/wf: no module f/w/wf__mod/nothere.ts, no script f/w/nothere)');
  });
});
