/**
 * Python import names → distribution (requirement) names. Most distributions install a module of
 * their own name; these are the usual exceptions (the same conventions Windmill's worker applies),
 * plus the namespace packages (`google.cloud.x`, `azure.x.y`) resolved from the dotted path.
 */

/** Whole top-level module → requirement. Anything else: the module name with `_` → `-`. */
const TOP_LEVEL: Record<string, string> = {
  yaml: 'PyYAML',
  PIL: 'Pillow',
  cv2: 'opencv-python',
  sklearn: 'scikit-learn',
  skimage: 'scikit-image',
  bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil',
  dotenv: 'python-dotenv',
  jwt: 'PyJWT',
  psycopg2: 'psycopg2-binary',
  psycopg: 'psycopg[binary,pool]',
  git: 'GitPython',
  github: 'PyGithub',
  gitlab: 'python-gitlab',
  googleapiclient: 'google-api-python-client',
  attr: 'attrs',
  Crypto: 'pycryptodome',
  OpenSSL: 'pyOpenSSL',
  magic: 'python-magic',
  slugify: 'python-slugify',
  jose: 'python-jose',
  multipart: 'python-multipart',
  serial: 'pyserial',
  zmq: 'pyzmq',
  fitz: 'PyMuPDF',
  MySQLdb: 'mysqlclient',
  mysql: 'mysql-connector-python',
  pymysql: 'PyMySQL',
  websocket: 'websocket-client',
  nacl: 'PyNaCl',
  Bio: 'biopython',
  bson: 'pymongo',
  kafka: 'kafka-python',
  docx: 'python-docx',
  pptx: 'python-pptx',
  telegram: 'python-telegram-bot',
  ldap: 'python-ldap',
  dns: 'dnspython',
  socks: 'PySocks',
  shopify: 'ShopifyAPI',
  seleniumwire: 'selenium-wire',
  smb: 'pysmb',
  smbclient: 'smbprotocol',
  playhouse: 'peewee',
  msoffcrypto: 'msoffcrypto-tool',
  tabula: 'tabula-py',
  shapefile: 'pyshp',
  umap: 'umap-learn',
  atlassian: 'atlassian-python-api',
  opensearchpy: 'opensearch-py',
  msgraph: 'msgraph-sdk',
  pythonjsonlogger: 'python-json-logger',
  haystack: 'haystack-ai',
  mailparser: 'mail-parser',
  pkg_resources: 'setuptools',
  discord: 'discord.py',
  faiss: 'faiss-cpu',
  usb: 'pyusb',
  vt: 'vt-py',
};

/** Dotted prefixes → requirement (longest prefix wins). */
const DOTTED: Record<string, string> = {
  'google.auth': 'google-auth',
  'google.oauth2': 'google-auth',
  'google.protobuf': 'protobuf',
  'google.api_core': 'google-api-core',
  'google.generativeai': 'google-generativeai',
  'google.genai': 'google-genai',
  'google.ads.googleads': 'google-ads',
  'azure.storage.filedatalake': 'azure-storage-file-datalake',
  'azure.storage.fileshare': 'azure-storage-file-share',
  'snowflake.connector': 'snowflake-connector-python',
  'snowflake.snowpark': 'snowflake-snowpark-python',
  'ruamel.yaml': 'ruamel.yaml',
};

/** Namespace roots whose distribution is named from the dotted path. */
const NAMESPACE_ROOTS = new Set(['google', 'azure', 'snowflake', 'ruamel']);

/** Requirement for one dotted import path (`google.cloud.storage`, `yaml`, `foo_bar.baz`). */
export function requirementForImport(dotted: string): string | null {
  const parts = dotted.split('.').filter(Boolean);
  if (!parts.length) return null;
  for (let n = parts.length; n >= 2; n--) {
    const hit = DOTTED[parts.slice(0, n).join('.')];
    if (hit) return hit;
  }
  const root = parts[0]!;
  // The in-job SDK: our runner puts its own `wmill` module on the job's path (no index needed).
  if (root === 'wmill') return null;
  if (root === 'google' && parts[1] === 'cloud') {
    return parts[2] ? `google-cloud-${parts[2].replace(/_/g, '-')}` : null;
  }
  if (root === 'azure') {
    if (!parts[1]) return null;
    const grouped = ['mgmt', 'storage', 'keyvault', 'ai', 'monitor', 'communication', 'search', 'messaging', 'data', 'iot', 'synapse', 'digitaltwins', 'mixedreality', 'security', 'schemaregistry', 'containerregistry'];
    if (grouped.includes(parts[1]) && parts[2]) return `azure-${parts[1]}-${parts[2].replace(/_/g, '-')}`;
    return `azure-${parts[1].replace(/_/g, '-')}`;
  }
  if (NAMESPACE_ROOTS.has(root)) return null; // a namespace alone names no distribution
  return TOP_LEVEL[root] ?? root.replace(/_/g, '-');
}

/**
 * Full dotted module paths imported at module level, before `def main` (as the import scanner
 * does): `import a.b` → a.b; `from a.b import c, d` → a.b, a.b.c, a.b.d.
 */
export function pythonDottedImports(code: string): string[] {
  const m = /^(?:async\s+)?def\s+main\s*\(/m.exec(code);
  const head = (m ? code.slice(0, m.index) : code).replace(/\\\r?\n/g, ' ');
  const out = new Set<string>();
  // join parenthesized import lists onto one line
  const text = head.replace(/\(([^()]*)\)/g, (_, inner: string) => inner.replace(/\s*\n\s*/g, ' '));
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw)) continue; // indented: not module level
    const line = raw.replace(/#.*$/, '');
    for (const stmt of line.split(';')) {
      const s = stmt.trim();
      let f = /^from\s+([A-Za-z_][\w.]*)\s+import\s+(.+)$/.exec(s);
      if (f) {
        out.add(f[1]!);
        for (const name of f[2]!.split(',')) {
          const n = name.trim().split(/\s+as\s+/)[0]!.trim();
          if (n && n !== '*' && /^\w+$/.test(n)) out.add(`${f[1]}.${n}`);
        }
        continue;
      }
      f = /^import\s+(.+)$/.exec(s);
      if (f) {
        for (const part of f[1]!.split(',')) {
          const n = part.trim().split(/\s+as\s+/)[0]!.trim();
          if (/^[A-Za-z_][\w.]*$/.test(n)) out.add(n);
        }
      }
    }
  }
  return [...out];
}

/**
 * Requirements inferred from a script: `roots` are the third-party top-level modules (stdlib and
 * Windmill paths already removed); the dotted paths refine namespace packages.
 */
export function inferPythonRequirements(code: string, roots: string[]): string[] {
  const out = new Set<string>();
  const dotted = pythonDottedImports(code);
  for (const root of roots) {
    // the mapping of every imported path under this root (`from google.cloud import storage`
    // gives google.cloud → nothing, google.cloud.storage → google-cloud-storage)
    const reqs = new Set<string>();
    for (const d of dotted) {
      if (d !== root && !d.startsWith(`${root}.`)) continue;
      const r = requirementForImport(d);
      if (r) reqs.add(r);
    }
    if (!reqs.size) {
      const r = requirementForImport(root);
      if (r) reqs.add(r);
    }
    for (const r of reqs) out.add(r);
  }
  return [...out].sort();
}

/** PEP 503 normalized project name. */
export function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
