/**
 * Flows from a workspace folder, for preview: the flow folder's `flow.yaml` with its
 * `!inline` files substituted, `type: script` steps replaced by the local script files (as the
 * reference's `flow preview` does, so an edit is previewed before it is deployed), and sub-flows
 * read from their local folders.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { WmillError } from '../../errors.js';
import { loadConfig, type WorkspaceConfig } from '../../workspace/config.js';
import { discover } from '../../workspace/discover.js';
import { parseYamlStrict } from '../../util/yaml.js';
import { resolveInline } from '../../items/inline.js';
import { safePath } from '../../util/safe-read.js';
import { validateFlow, FlowDefinitionError, type FlowValue } from '../../items/flow-schema.js';
import type { Language } from '../../workspace/languages.js';

export interface LocalFlow {
  cfg: WorkspaceConfig;
  /** Windmill path of the flow (folder without its suffix). */
  path: string;
  folder: string;
  summary: string;
  value: FlowValue;
  schema: unknown;
}

/** Read a flow folder (or its flow.yaml). Errors name the file and the module. */
export function readLocalFlow(target: string, cwd = process.cwd()): LocalFlow {
  let abs = resolve(cwd, target);
  if (existsSync(abs) && statSync(abs).isFile()) abs = dirname(abs);
  const yamlFile = join(abs, 'flow.yaml');
  if (!existsSync(yamlFile)) throw new WmillError('usage', `${target}: no flow.yaml here; pass a flow folder (<name>__flow or <name>.flow)`);
  const cfg = loadConfig(abs);
  const rel = relative(cfg.root, abs).split('\\').join('/');
  const parsed = parseYamlStrict(readFileSync(yamlFile, 'utf8'));
  if ('error' in parsed) throw new WmillError('usage', `${rel}/flow.yaml${parsed.line ? `:${parsed.line}` : ''}: ${parsed.error}`);
  const doc = resolveInline(parsed.value ?? {}, cfg.root, rel, `${rel}/flow.yaml`, []) as Record<string, any>;
  let value: FlowValue;
  try {
    value = validateFlow(doc.value, `${rel}/flow.yaml`);
  } catch (e) {
    if (e instanceof FlowDefinitionError) throw new WmillError('usage', e.message);
    throw e;
  }
  return { cfg, path: rel.replace(/(\.flow|__flow)$/, '') || basename(abs), folder: rel, summary: doc.summary ?? '', value, schema: doc.schema ?? null };
}

/** Local scripts by Windmill path (for `type: script` steps). */
export function localScripts(cfg: WorkspaceConfig): Map<string, { content: string; language: Language; file: string }> {
  const out = new Map<string, { content: string; language: Language; file: string }>();
  for (const s of discover(cfg).scripts) out.set(s.path, { content: readFileSync(safePath(cfg.root, s.file), 'utf8'), language: s.language, file: s.file });
  return out;
}

/** Local flows by Windmill path (for `type: flow` steps). */
export function localFlows(cfg: WorkspaceConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of discover(cfg).flows) out.set(f.folder.replace(/(\.flow|__flow)$/, ''), join(cfg.root, f.folder));
  return out;
}
