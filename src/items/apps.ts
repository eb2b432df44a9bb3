/**
 * Apps as files and as sync bodies (spec/wmill-cli.md §3.2, §10 `app`). A low-code app is a
 * folder `<path>.app/` (`__app` with nonDottedPaths) holding `app.yaml` and its inline scripts;
 * a raw app is `<path>.raw_app/` holding `raw_app.yaml`, its frontend files, `backend/<id>.yaml`
 * per runnable (+ `<id>.<ext>` and `<id>.lock` for inline ones). (The reference's sync pull does
 * not write a raw app's generated `DATATABLES.md`, and its push never sends it.)
 *
 * The server holds an app as Windmill exports it (`{summary, value, policy, custom_path?}`).
 * `appToFiles` writes that the way the reference CLI's pull does (inline scripts named as it
 * names them, `policy` reduced to `public: true`/`guests: true`); `appFromFiles` reads a folder
 * the way its push does (inline files substituted, runnable types restored). The sync body of
 * an app is `appFromFiles(appToFiles(x))`, on both sides: what a pull writes reads back as the
 * same body, so a push after a pull is a no-op and the hashes of both sides agree.
 */
import { parseYaml, toYaml, compareKeys } from '../util/yaml.js';

export type AppKind = 'app' | 'raw_app';

export interface AppFileOptions {
  defaultTs: 'bun' | 'deno';
  /** `__app`/`__raw_app` folders and no `.inline_script` infix. */
  nonDotted: boolean;
}

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The folder suffix of an app of `kind`. */
export const appSuffix = (kind: AppKind, nonDotted: boolean) => (nonDotted ? '__' : '.') + kind;
/** The metadata file inside an app folder. */
export const appYamlName = (kind: AppKind) => (kind === 'app' ? 'app.yaml' : 'raw_app.yaml');

/** Frontend files a raw app push never sends (and a pull never writes from the server's copy). */
const NEVER_DEPLOYED_FILES = new Set(['package-lock.json', 'DATATABLES.md', 'AGENTS.md', 'wmill.d.ts']);
const NEVER_DEPLOYED_DIRS = new Set(['node_modules', 'dist', '.claude', 'sql_to_apply']);
const BACKEND = 'backend';

/** Whether a file of an app folder (relative to it) is app content that a pull may replace or remove (not node_modules, DATATABLES.md, ...). */
export function appFileOwned(kind: AppKind, rel: string): boolean {
  if (kind === 'app') return true;
  return rawAppFileCounts(rel) && !NEVER_DEPLOYED_FILES.has(rel.slice(rel.lastIndexOf('/') + 1));
}

/** Whether a file of a raw app folder (relative to it) is part of what a push sends or reads. */
export function rawAppFileCounts(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.slice(0, -1).some((d) => NEVER_DEPLOYED_DIRS.has(d))) return false;
  if (parts[0] === 'recordings' && parts.length > 1) return false;
  return true;
}

const LANGUAGE_EXT: Record<string, string> = {
  python3: 'py', bun: 'bun.ts', deno: 'deno.ts', go: 'go', bash: 'sh', powershell: 'ps1', postgresql: 'pg.sql', mysql: 'my.sql',
  bigquery: 'bq.sql', oracledb: 'odb.sql', snowflake: 'sf.sql', mssql: 'ms.sql', graphql: 'gql', nativets: 'native.ts',
  frontend: 'frontend.js', php: 'php', rust: 'rs', csharp: 'cs', nu: 'nu', ansible: 'playbook.yml', java: 'java',
  duckdb: 'duckdb.sql', bunnative: 'ts', ruby: 'rb', rlang: 'r', dbt: 'dbt.yaml',
};
const EXT_LANGUAGE: Record<string, string> = { ...Object.fromEntries(Object.entries(LANGUAGE_EXT).filter(([l]) => l !== 'bunnative').map(([l, e]) => [e, l])), ts: 'bun' };

function extensionOf(language: unknown, defaultTs: string): string {
  if (language === defaultTs || language === 'bunnative') return 'ts';
  return LANGUAGE_EXT[String(language)] ?? 'no_ext';
}

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

function sanitize(s: string, preserveCase: boolean): string {
  let n = s
    .replaceAll(' ', '_')
    // eslint-disable-next-line no-control-regex
    .replace(/[/\\:*?"<>|\u0000-\u001f\u007f]/g, '')
    .replace(/_+/g, '_')
    .replace(/^[._]+|[._]+$/g, '');
  if (!preserveCase) n = n.toLowerCase();
  return RESERVED.test(n.toLowerCase()) ? `_${n}` : n;
}

/** Names inline scripts as the reference does: sanitized name, `_<n>` from one counter on collisions. */
function assigner(raw: boolean, o: AppFileOptions) {
  let counter = 0;
  const seen = new Set<string>();
  return (name: string, language: unknown): [string, string] => {
    let n = name ? sanitize(name, raw) : '';
    let original = n;
    if (n === '') {
      original = raw ? 'runnable' : 'inline_script';
      n = `${original}_0`;
    }
    while (seen.has(n.toLowerCase())) n = `${original}_${++counter}`;
    seen.add(n.toLowerCase());
    const ext = extensionOf(language, o.defaultTs);
    return [raw ? `${n}.` : `${n}${o.nonDotted ? '.' : '.inline_script.'}`, ext];
  };
}

const sortedEntries = (rec: Obj | unknown[]): [string, any][] =>
  Array.isArray(rec) ? Object.entries(rec) : Object.entries(rec).sort(([a], [b]) => compareKeys(a, b));

/** Move every `inlineScript`'s content (and lock) out of `rec` into files, as the reference's pull. */
function extractInline(key: string | undefined, rec: unknown, assign: ReturnType<typeof assigner>, toId: (key: string, holder: Obj) => string, removeSchema: boolean, out: [string, string][]): void {
  if (!rec || typeof rec !== 'object') return;
  for (const [k, v] of sortedEntries(rec as Obj)) {
    if (k === 'inlineScript' && v && typeof v === 'object') {
      const holder = rec as Obj;
      delete holder.type;
      const [base, ext] = assign(toId(key ?? '', holder), v.language);
      if (v.content) {
        out.push([base + ext, String(v.content)]);
        v.content = `!inline ${base}${ext}`;
      }
      if (v.lock && v.lock !== '') {
        out.push([`${base}lock`, String(v.lock)]);
        v.lock = `!inline ${base}lock`;
      }
      if (removeSchema) delete v.schema;
    } else extractInline(k, v, assign, toId, removeSchema, out);
  }
}

/** `policy` becomes `public: true` (anonymous) or `guests: true` (guest), as the reference's pull writes it. */
function markAccess(app: Obj): void {
  const mode = app.policy?.execution_mode;
  if (mode === 'anonymous') app.public = true;
  else if (mode === 'guest') app.guests = true;
  delete app.policy;
}

/** `fields` of a raw app runnable as a pull writes them (static → {value}, ctx → {ctx}, javascript → {expr}, user → dropped). */
function simplifyFields(fields: Obj): void {
  for (const [k, v] of Object.entries(fields)) {
    if (!isObj(v)) continue;
    if (v.type === 'static') fields[k] = { value: v.value };
    else if (v.type === 'javascript') fields[k] = { expr: v.expr, allowUserResources: v.allowUserResources };
    else if (v.type === 'user') delete fields[k];
  }
  for (const [k, v] of Object.entries(fields)) {
    if (!isObj(v)) continue;
    if (v.type === 'static' && v.value !== undefined) fields[k] = { value: v.value };
    else if (v.type === 'ctx' && v.ctx !== undefined) fields[k] = { ctx: v.ctx };
  }
}

/** The inverse on push: {value} → static, {ctx} → ctx, {expr} → javascript. */
function respecializeFields(fields: Obj): void {
  for (const [k, v] of Object.entries(fields)) {
    if (!isObj(v)) continue;
    if (v.value !== undefined) fields[k] = { value: v.value, type: 'static' };
    else if (v.ctx !== undefined) fields[k] = { ctx: v.ctx, type: 'ctx' };
    else if (v.expr !== undefined) fields[k] = { expr: v.expr, allowUserResources: v.allowUserResources, type: 'javascript' };
  }
}

/**
 * The files of an app folder (paths relative to it) for an app as the server exports it (or a
 * sync body), as the reference CLI's pull writes them.
 */
export function appToFiles(kind: AppKind, src: Obj, o: AppFileOptions): Map<string, string> {
  const app = structuredClone(src);
  const files = new Map<string, string>();
  if (kind === 'app') {
    const inline: [string, string][] = [];
    extractInline(undefined, app.value, assigner(false, o), (_k, holder) => String(holder.name ?? ''), false, inline);
    for (const [p, t] of inline) files.set(p, t);
    markAccess(app);
    files.set('app.yaml', toYaml(app));
    return files;
  }
  markAccess(app);
  delete app.custom_path;
  const value: Obj = isObj(app.value) ? app.value : {};
  const runnables: Obj = isObj(value.runnables) ? value.runnables : {};
  for (const r of Object.values(runnables)) if (isObj(r) && isObj(r.fields)) simplifyFields(r.fields);
  const inline: [string, string][] = [];
  extractInline(undefined, value, assigner(true, o), (key) => key, true, inline);
  for (const [p, content] of Object.entries(isObj(value.files) ? value.files : {})) {
    if (p.startsWith('/sql_to_apply/') || ['/wmill.d.ts', '/AGENTS.md', '/DATATABLES.md'].includes(p)) continue;
    const rel = p.replace(/^\//, '');
    if (!rel || rel.split('/').some((s) => s === '..' || s === '.' || s === '')) throw new Error(`raw app file ${JSON.stringify(p)} escapes the app folder`);
    if (typeof content !== 'string') throw new Error(`content of raw app file ${p} is not a string`);
    files.set(rel, content);
  }
  for (const [p, t] of inline) files.set(`${BACKEND}/${p}`, t);
  for (const [id, r] of Object.entries(runnables)) {
    let simple: Obj = r;
    if (isObj(r) && r.inlineScript) {
      simple = { type: 'inline' };
      for (const [k, v] of Object.entries(r)) if (k !== 'inlineScript' && k !== 'type') simple[k] = v;
    } else if (isObj(r) && r.type === 'path' && r.runType) {
      const { type: _t, runType, schema: _s, ...rest } = r;
      simple = { type: runType, ...rest };
    }
    if (id.split('/').some((s) => s === '..' || s === '.' || s === '')) throw new Error(`raw app runnable id ${JSON.stringify(id)} escapes the backend folder`);
    files.set(`${BACKEND}/${id}.yaml`, toYaml(simple));
  }
  if (value.data) app.data = value.data;
  delete app.value;
  files.set('raw_app.yaml', toYaml(app));
  return files;
}

function parseDoc(text: string, file: string): Obj {
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (v == null) return {};
  if (!isObj(v)) throw new Error(`${file}: expected a mapping at the top level`);
  return v;
}

/** Access flags of an app's metadata, normalized (only `true` counts). */
function accessFlags(meta: Obj): Obj {
  return { ...(meta.public === true ? { public: true } : {}), ...(meta.guests === true ? { guests: true } : {}) };
}

/**
 * The sync body of an app folder (`files`: paths relative to the folder → text), as the
 * reference CLI's push reads it. `where` names the folder in errors.
 */
export function appFromFiles(kind: AppKind, files: Map<string, string>, o: Pick<AppFileOptions, 'defaultTs'>, where: string): Obj {
  if (kind === 'app') {
    const meta = parseDoc(files.get('app.yaml') ?? '', `${where}/app.yaml`);
    const { extra_perms: _e, policy: _p, public: _pub, guests: _g, ...rest } = meta;
    const resolve = (rec: unknown): void => {
      if (!rec || typeof rec !== 'object') return;
      for (const [k, v] of Object.entries(rec)) {
        if (k === 'runType') (rec as Obj).type = 'path';
        else if (k === 'inlineScript' && v && typeof v === 'object') {
          (rec as Obj).type = 'inline';
          for (const f of ['content', 'lock']) {
            const x = (v as Obj)[f];
            if (typeof x === 'string' && x.startsWith('!inline')) {
              const rel = x.split(' ')[1] ?? '';
              const t = files.get(rel);
              if (t === undefined) throw new Error(`${where}/app.yaml: '${x}' points to ${where}/${rel}, which does not exist; restore the file or fix the reference`);
              (v as Obj)[f] = t;
            }
          }
        } else resolve(v);
      }
    };
    resolve(rest.value);
    return { ...rest, summary: typeof rest.summary === 'string' ? rest.summary : '', value: rest.value ?? {}, ...accessFlags(meta) };
  }
  const meta = parseDoc(files.get('raw_app.yaml') ?? '', `${where}/raw_app.yaml`);
  const backend = [...files.keys()].filter((f) => f.startsWith(`${BACKEND}/`) && !f.slice(BACKEND.length + 1).includes('/')).map((f) => f.slice(BACKEND.length + 1)).sort();
  const runnables: Obj = {};
  const seen = new Set<string>();
  const contentFile = (id: string): { ext: string; content: string } | undefined => {
    for (const name of backend) {
      if (name.endsWith('.yaml') || name.endsWith('.lock') || !name.toLowerCase().startsWith(`${id.toLowerCase()}.`)) continue;
      const ext = name.slice(id.length + 1);
      if (EXT_LANGUAGE[ext]) return { ext, content: files.get(`${BACKEND}/${name}`)! };
    }
    return undefined;
  };
  const lockOf = (id: string) => {
    const name = backend.find((f) => f.toLowerCase() === `${id.toLowerCase()}.lock`);
    return name ? files.get(`${BACKEND}/${name}`) : undefined;
  };
  const language = (ext: string) => (ext === 'ts' ? o.defaultTs : EXT_LANGUAGE[ext]);
  const inlineScript = (id: string) => {
    const c = contentFile(id);
    if (!c) return undefined;
    const lock = lockOf(id);
    return { content: c.content, language: language(c.ext), ...(lock ? { lock } : {}) };
  };
  for (const name of backend) {
    if (!name.endsWith('.yaml')) continue;
    const id = name.slice(0, -'.yaml'.length);
    seen.add(id.toLowerCase());
    const r = parseDoc(files.get(`${BACKEND}/${name}`)!, `${where}/${BACKEND}/${name}`);
    if (r.type === 'inline') {
      const s = inlineScript(id);
      if (s) r.inlineScript = s;
    } else if (r.type === 'script' || r.type === 'hubscript' || r.type === 'flow') {
      const { type, schema: _s, ...rest } = r;
      for (const k of Object.keys(r)) delete r[k];
      Object.assign(r, { type: 'path', runType: type, ...rest });
    }
    runnables[id] = r;
  }
  for (const name of backend) {
    if (name.endsWith('.yaml') || name.endsWith('.lock')) continue;
    const ext = Object.keys(EXT_LANGUAGE).find((e) => name.endsWith(`.${e}`));
    if (!ext) continue;
    const id = name.slice(0, -(ext.length + 1));
    if (seen.has(id.toLowerCase())) continue;
    seen.add(id.toLowerCase());
    const s = inlineScript(id);
    if (s) runnables[id] = { type: 'inline', inlineScript: s };
  }
  for (const r of Object.values(runnables)) {
    if (isObj(r) && r.inlineScript) r.type = 'inline';
    if (isObj(r) && r.runType) r.type = 'path';
    if (isObj(r) && isObj(r.fields)) respecializeFields(r.fields);
  }
  const front: Obj = {};
  for (const [rel, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (rel.startsWith(`${BACKEND}/`) || rel.split('/').slice(0, -1).includes(BACKEND)) continue;
    if (rel === 'raw_app.yaml' || NEVER_DEPLOYED_FILES.has(base) || !rawAppFileCounts(rel)) continue;
    front[`/${rel}`] = text;
  }
  const value: Obj = { runnables, files: front, ...(meta.data ? { data: meta.data } : {}) };
  return { summary: typeof meta.summary === 'string' ? meta.summary : '', ...accessFlags(meta), value };
}

/** The sync body of an app as the server holds it: what a pull writes, read back. */
export function appBody(kind: AppKind, src: Obj): Obj {
  const o: AppFileOptions = { defaultTs: 'bun', nonDotted: false };
  return appFromFiles(kind, appToFiles(kind, src, o), o, src.path ?? kind);
}

/** The execution mode a sync body asks for (`deployed`: the mode on the server now, kept unless the body says public or guests). */
export function executionMode(body: Obj, deployed?: string): string {
  if (body.public === true) return 'anonymous';
  if (body.guests === true) return 'guest';
  return deployed === 'viewer' ? 'viewer' : 'publisher';
}
