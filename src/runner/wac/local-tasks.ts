/**
 * Workflow tasks resolved from a workspace folder, for preview: `taskScript(path)` runs the
 * script file of that path as it is now on disk (with its schema's argument order), and
 * `taskFlow(path)` the flow folder of that path, as `wmill serve` runs the deployed versions.
 * Relative targets resolve against the workflow (./tasks.ts). Items outside wmill.yaml's
 * includes (or in its excludes) are not part of the workspace, as for sync.
 *
 * Only the folder of the target is listed: a preview does not scan the workspace.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceConfig } from '../../workspace/config.js';
import { makeFilter } from '../../workspace/discover.js';
import { hasScriptExtension, languageOf, remotePathOf, type Language } from '../../workspace/languages.js';
import { readText } from '../../util/fs.js';
import type { JobRecord, JobSpec } from '../types.js';
import { taskTarget } from './tasks.js';

export interface LocalScript {
  path: string;
  /** Root-relative file. */
  relFile: string;
  language: Language;
}

export class LocalTasks {
  private readonly filter: (rel: string) => boolean;

  constructor(private readonly cfg: WorkspaceConfig) {
    this.filter = makeFilter(cfg);
  }

  /** The script file of Windmill path `path` (flat `<name>.<ext>` or `<name>__mod/script.<ext>`); throws when two files claim it. */
  script(path: string): LocalScript | undefined {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash);
    const name = path.slice(slash + 1);
    const found: LocalScript[] = [];
    const consider = (relFile: string) => {
      if (!hasScriptExtension(relFile) || /\.(script|flow|app|resource|variable|schedule)\.(ya?ml|json)$/.test(relFile) || !this.filter(relFile)) return;
      const language = languageOf(relFile, this.cfg.defaultTs);
      if (typeof language === 'string') found.push({ path, relFile, language });
    };
    for (const e of list(join(this.cfg.root, dir))) {
      if (e.isFile() && remotePathOf(`${dir}/${e.name}`) === path) consider(`${dir}/${e.name}`);
    }
    for (const e of list(join(this.cfg.root, dir, `${name}__mod`))) {
      if (e.isFile() && /^script\.[^/]+$/.test(e.name)) consider(`${dir}/${name}__mod/${e.name}`);
    }
    if (found.length > 1) throw new Error(`${path}: more than one script file (${found.map((f) => f.relFile).join(', ')}); keep one`);
    return found[0];
  }

  /** The module file `key` of script `scriptPath` (`<scriptPath>__mod/<key>`), Windmill's meaning of `./key`. */
  module(scriptPath: string, key: string): LocalScript | undefined {
    if (!key || key.split('/').some((s) => s === '..' || s === '.' || s === '') || /^script\./.test(key)) return undefined;
    const relFile = `${scriptPath}__mod/${key}`;
    const abs = join(this.cfg.root, relFile);
    if (!existsSync(abs) || !statSync(abs).isFile() || !hasScriptExtension(relFile) || !this.filter(relFile)) return undefined;
    const language = languageOf(key, this.cfg.defaultTs);
    return typeof language === 'string' ? { path: scriptPath, relFile, language } : undefined;
  }

  /** The folder of flow `path` (`<name>__flow` or `<name>.flow`, with its flow.yaml), root-relative. */
  flowFolder(path: string): string | undefined {
    for (const suffix of ['__flow', '.flow']) {
      const rel = `${path}${suffix}`;
      const abs = join(this.cfg.root, rel);
      if ((existsSync(join(abs, 'flow.yaml')) || existsSync(join(abs, 'flow.json'))) && this.filter(`${rel}/flow.yaml`)) return rel;
    }
    return undefined;
  }

  /** A script job for `s`, as its file is now (argument order from its schema). */
  async scriptSpec(s: LocalScript): Promise<Partial<JobSpec>> {
    const abs = join(this.cfg.root, s.relFile);
    const content = readText(abs);
    const { scriptSchema, argOrder } = await import('../../metadata/script-schema.js');
    // a module has no metadata of its own: its schema is inferred from its code
    const relFile = /__mod\/(?!script\.)[^/]+$/.test(s.relFile) ? null : s.relFile;
    const argNames = s.language === 'postgresql' ? undefined : argOrder(await scriptSchema({ root: this.cfg.root, relFile, path: s.path, language: s.language, content }));
    return { kind: 'preview', path: s.path, language: s.language, content, file: abs, root: this.cfg.root, ...(argNames ? { argNames } : {}) };
  }

  /** A flow job for the flow folder `folder`. */
  async flowSpec(path: string, folder: string): Promise<Partial<JobSpec>> {
    return { kind: 'flow', path, language: 'flow' as Language, content: '', flow: await this.flowValue(folder) };
  }

  async flowValue(folder: string): Promise<unknown> {
    const { readLocalFlow } = await import('../flow/local.js');
    return readLocalFlow(join(this.cfg.root, folder)).value;
  }

  /** A flow step's `type: script` path, from the files (what FlowDeps.resolveScript answers). */
  async flowScript(path: string): Promise<{ content: string; language: Language } | undefined> {
    const s = this.script(path);
    return s ? { content: readText(join(this.cfg.root, s.relFile)), language: s.language } : undefined;
  }

  /** A flow step's `type: flow` path, from the files (what FlowDeps.resolveFlow answers). */
  async flow(path: string): Promise<any> {
    const folder = this.flowFolder(path);
    return folder ? this.flowValue(folder) : undefined;
  }

  /** The engine's `resolveTask` for preview: a workflow's taskScript / taskFlow target, from the files. */
  async resolveTask(job: JobRecord, step: { script: string; dispatch_type: string }): Promise<Partial<JobSpec> | undefined> {
    const target = taskTarget(job.path, step.script);
    if (!target) return undefined;
    if (step.dispatch_type === 'flow') {
      const folder = this.flowFolder(target.path);
      return folder ? this.flowSpec(target.path, folder) : undefined;
    }
    const s = (target.module ? this.module(job.path, target.module) : undefined) ?? this.script(target.path);
    return s ? this.scriptSpec(s) : undefined;
  }
}

function list(abs: string) {
  try {
    return readdirSync(abs, { withFileTypes: true });
  } catch {
    return [];
  }
}
