/** Script languages and the file-extension rules of the reference CLI (spec/wmill-cli.md §3.3). */
export type Language =
  | 'python3'
  | 'nativets'
  | 'bun'
  | 'deno'
  | 'go'
  | 'mysql'
  | 'bigquery'
  | 'oracledb'
  | 'duckdb'
  | 'snowflake'
  | 'mssql'
  | 'postgresql'
  | 'graphql'
  | 'bash'
  | 'powershell'
  | 'php'
  | 'rust'
  | 'csharp'
  | 'ansible'
  | 'nu'
  | 'java'
  | 'ruby'
  | 'dbt'
  | 'rlang';

export const LANGUAGES: readonly Language[] = [
  'python3', 'nativets', 'bun', 'deno', 'go', 'mysql', 'bigquery', 'oracledb', 'duckdb', 'snowflake',
  'mssql', 'postgresql', 'graphql', 'bash', 'powershell', 'php', 'rust', 'csharp', 'ansible', 'nu',
  'java', 'ruby', 'dbt', 'rlang',
];

/** Extensions that make a file a script, in the reference's match order. */
export const SCRIPT_EXTENSIONS = [
  '.fetch.ts', '.deno.ts', '.bun.ts', '.ts', '.py', '.go', '.sh', '.pg.sql', '.my.sql', '.bq.sql',
  '.odb.sql', '.sf.sql', '.ms.sql', '.duckdb.sql', '.sql', '.gql', '.ps1', '.php', '.rs', '.cs', '.nu',
  '.playbook.yml', '.java', '.rb', '.r',
] as const;

export function hasScriptExtension(file: string): boolean {
  if (file.endsWith('__dbt/wm_dbt.yaml')) return true;
  return SCRIPT_EXTENSIONS.some((e) => file.endsWith(e));
}

export type DefaultTs = 'bun' | 'deno';

/** Language of a script file, or an error message naming the fix. Order matters (reference `inferContentTypeFromFilePath`). */
export function languageOf(file: string, defaultTs: DefaultTs = 'bun'): Language | { error: string } {
  const rules: [string, Language | 'defaultTs'][] = [
    ['.py', 'python3'],
    ['fetch.ts', 'nativets'],
    ['bun.ts', 'bun'],
    ['deno.ts', 'deno'],
    ['.ts', 'defaultTs'],
    ['.go', 'go'],
    ['.my.sql', 'mysql'],
    ['.bq.sql', 'bigquery'],
    ['.odb.sql', 'oracledb'],
    ['.duckdb.sql', 'duckdb'],
    ['.sf.sql', 'snowflake'],
    ['.ms.sql', 'mssql'],
    ['.pg.sql', 'postgresql'],
    ['.gql', 'graphql'],
    ['.sh', 'bash'],
    ['.ps1', 'powershell'],
    ['.php', 'php'],
    ['.rs', 'rust'],
    ['.cs', 'csharp'],
    ['.playbook.yml', 'ansible'],
    ['.nu', 'nu'],
    ['.java', 'java'],
    ['.rb', 'ruby'],
    ['wm_dbt.yaml', 'dbt'],
    ['.r', 'rlang'],
  ];
  for (const [suffix, lang] of rules) {
    if (file.endsWith(suffix)) return lang === 'defaultTs' ? defaultTs : lang;
  }
  if (file.endsWith('.sql')) {
    return {
      error: `${file}: a bare .sql file has no dialect; rename it to .pg.sql, .my.sql, .bq.sql, .sf.sql, .ms.sql, .odb.sql or .duckdb.sql`,
    };
  }
  return { error: `${file}: unknown script extension` };
}

/** File extension for a new script of `language` (reference `filePathExtensionFromContentType`). */
export function extensionFor(language: Language, defaultTs: DefaultTs = 'bun'): string {
  switch (language) {
    case 'python3': return '.py';
    case 'nativets': return '.fetch.ts';
    case 'bun': return defaultTs === 'deno' ? '.bun.ts' : '.ts';
    case 'deno': return defaultTs === 'deno' ? '.ts' : '.deno.ts';
    case 'go': return '.go';
    case 'mysql': return '.my.sql';
    case 'bigquery': return '.bq.sql';
    case 'oracledb': return '.odb.sql';
    case 'duckdb': return '.duckdb.sql';
    case 'snowflake': return '.sf.sql';
    case 'mssql': return '.ms.sql';
    case 'postgresql': return '.pg.sql';
    case 'graphql': return '.gql';
    case 'bash': return '.sh';
    case 'powershell': return '.ps1';
    case 'php': return '.php';
    case 'rust': return '.rs';
    case 'csharp': return '.cs';
    case 'ansible': return '.playbook.yml';
    case 'nu': return '.nu';
    case 'java': return '.java';
    case 'ruby': return '.rb';
    case 'dbt': return '__dbt/wm_dbt.yaml';
    case 'rlang': return '.r';
  }
}

/** Languages whose lock the reference asks a server for (spec §7). */
export function languageNeedsLock(language: Language): boolean {
  return ['python3', 'bun', 'php', 'go', 'deno', 'rust', 'ansible'].includes(language);
}

/** Windmill path of a file: the root-relative path up to its first dot (with `/` separators). */
export function remotePathOf(relPath: string): string {
  // A non-dotted flow/app folder (and anything in it) is the item's path without the suffix.
  const p = relPath
    .split('\\')
    .join('/')
    .replace(/(__flow|__app|__raw_app)(\/.*)?$/, '');
  const i = p.indexOf('.');
  return i === -1 ? p : p.slice(0, i);
}
