import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import type { WorkspaceConfig } from './config.js';
import { hasScriptExtension, languageOf, remotePathOf, type Language } from './languages.js';

export interface ScriptItem {
  kind: 'script';
  /** Windmill path, e.g. f/examples/hello */
  path: string;
  /** Root-relative content file, e.g. f/examples/hello.py */
  file: string;
  language: Language;
  /** Root-relative metadata file that exists, or null. */
  metaFile: string | null;
  /** Where metadata goes when created. */
  metaTarget: string;
}

export interface FlowItem {
  kind: 'flow';
  path: string;
  /** Root-relative flow folder, e.g. f/examples/etl.flow or f/examples/etl__flow */
  folder: string;
  /** Immediate children of the folder with a script extension (inline scripts), sorted. */
  inlineFiles: string[];
}

export interface AppItem {
  kind: 'app' | 'raw_app';
  /** Windmill path (the folder without its suffix). */
  path: string;
  /** Root-relative app folder, e.g. f/x/board.raw_app or f/x/board__raw_app */
  folder: string;
}

export type OtherKind = 'resource' | 'variable' | 'schedule' | 'folder' | 'resource-type' | 'trigger';

export interface OtherItem {
  kind: OtherKind;
  path: string;
  file: string;
}

export interface Discovery {
  scripts: ScriptItem[];
  flows: FlowItem[];
  /** App folders (`.app`/`__app` with app.yaml, `.raw_app`/`__raw_app` with raw_app.yaml). */
  apps: AppItem[];
  others: OtherItem[];
  /** Files that look like scripts but cannot be used, with the reason (e.g. bare .sql). */
  problems: { file: string; message: string }[];
}

const TOP_LEVEL = new Set(['f', 'u', 'g']);
const FLOW_RE = /(^|\/)[^/]+(\.flow|__flow)$/;
const APP_RE = /(^|\/)[^/]+(\.app|__app|\.raw_app|__raw_app)$/;

/** The ignore rule of the reference: includes match (any), excludes do not, extraIncludes (if any) match. */
export function makeFilter(cfg: Pick<WorkspaceConfig, 'includes' | 'excludes' | 'extraIncludes'>): (rel: string) => boolean {
  const inc = cfg.includes.map((g) => new minimatch.Minimatch(g));
  const exc = cfg.excludes.map((g) => new minimatch.Minimatch(g));
  const extra = cfg.extraIncludes.map((g) => new minimatch.Minimatch(g));
  return (rel) =>
    inc.some((m) => m.match(rel)) && !exc.some((m) => m.match(rel)) && (extra.length === 0 || extra.some((m) => m.match(rel)));
}

function listDir(abs: string): Dirent[] {
  try {
    return readdirSync(abs, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Discover the items of a workspace folder exactly as the reference maps files to items. */
export function discover(cfg: WorkspaceConfig): Discovery {
  const filter = makeFilter(cfg);
  const out: Discovery = { scripts: [], flows: [], apps: [], others: [], problems: [] };
  const files = new Set<string>();

  const walk = (rel: string) => {
    for (const d of listDir(join(cfg.root, rel))) {
      if (d.name.startsWith('.') || d.name === 'node_modules') continue;
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (FLOW_RE.test(childRel)) {
          visitFlow(childRel);
        } else if (APP_RE.test(childRel)) {
          visitApp(childRel);
        } else if (childRel.endsWith('.fileset')) {
          // fileset resources: not scripts
        } else {
          walk(childRel);
        }
      } else if (d.isFile() || d.isSymbolicLink()) {
        files.add(childRel);
      }
    }
  };

  const visitFlow = (folderRel: string) => {
    const entries = listDir(join(cfg.root, folderRel));
    const hasFlowYaml = entries.some((e) => e.name === 'flow.yaml' || e.name === 'flow.json');
    if (!hasFlowYaml) return;
    if (!filter(`${folderRel}/flow.yaml`) && !filter(`${folderRel}/flow.json`)) return;
    const inlineFiles = entries
      .filter((e) => e.isFile() && hasScriptExtension(e.name))
      .map((e) => e.name)
      .sort();
    out.flows.push({ kind: 'flow', path: remotePathOf(folderRel), folder: folderRel, inlineFiles });
  };

  const visitApp = (folderRel: string) => {
    const kind = /(\.raw_app|__raw_app)$/.test(folderRel) ? 'raw_app' : 'app';
    const meta = kind === 'app' ? 'app.yaml' : 'raw_app.yaml';
    if (!listDir(join(cfg.root, folderRel)).some((e) => e.isFile() && e.name === meta)) return;
    if (!filter(`${folderRel}/${meta}`)) return;
    out.apps.push({ kind, path: folderRel.replace(/(\.app|__app|\.raw_app|__raw_app)$/, ''), folder: folderRel });
  };

  for (const d of listDir(cfg.root)) {
    if (d.isDirectory() && TOP_LEVEL.has(d.name)) walk(d.name);
  }

  for (const rel of [...files].sort()) {
    if (!filter(rel)) continue;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (rel.includes('.resource.file.')) continue;
    if (rel.includes('__mod/') && !/__mod\/script\.[^/]+$/.test(rel)) continue;
    if (base.endsWith('.resource.yaml') || base.endsWith('.resource.json')) {
      out.others.push({ kind: 'resource', path: remotePathOf(rel), file: rel });
    } else if (base.endsWith('.variable.yaml') || base.endsWith('.variable.json')) {
      out.others.push({ kind: 'variable', path: remotePathOf(rel), file: rel });
    } else if (base.endsWith('.schedule.yaml') || base.endsWith('.schedule.json')) {
      out.others.push({ kind: 'schedule', path: remotePathOf(rel), file: rel });
    } else if (/_trigger\.(yaml|json)$/.test(base)) {
      out.others.push({ kind: 'trigger', path: remotePathOf(rel), file: rel });
    } else if (base === 'folder.meta.yaml' || base === 'folder.meta.json') {
      out.others.push({ kind: 'folder', path: rel.slice(0, rel.lastIndexOf('/')), file: rel });
    } else if (hasScriptExtension(rel)) {
      const lang = languageOf(rel, cfg.defaultTs);
      if (typeof lang !== 'string') {
        out.problems.push({ file: rel, message: lang.error });
        continue;
      }
      const isMod = /__mod\/script\.[^/]+$/.test(rel);
      const path = isMod ? rel.slice(0, rel.indexOf('__mod/')) : remotePathOf(rel);
      const metaBase = isMod ? `${path}__mod/script` : `${path}.script`;
      const metaFile = files.has(`${metaBase}.json`) ? `${metaBase}.json` : files.has(`${metaBase}.yaml`) ? `${metaBase}.yaml` : null;
      out.scripts.push({ kind: 'script', path, file: rel, language: lang, metaFile, metaTarget: `${metaBase}.yaml` });
    }
  }
  // Resource types live at the root only.
  for (const d of listDir(cfg.root)) {
    if (d.isFile() && /\.resource-type\.(yaml|json)$/.test(d.name)) {
      out.others.push({ kind: 'resource-type', path: d.name.slice(0, d.name.indexOf('.')), file: d.name });
    }
  }
  return out;
}
