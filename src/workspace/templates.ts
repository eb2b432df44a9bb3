import type { Language } from './languages.js';

/** Starter content for `wmill script new`: a typed `main` so the schema is useful from the start. */
export function scriptTemplate(language: Language): string {
  switch (language) {
    case 'python3':
      return 'def main(name: str = "world", times: int = 1):\n    return {"greeting": f"Hello {name}!" * times}\n';
    case 'bun':
    case 'deno':
      return 'export async function main(name: string = "world", times: number = 1) {\n  return { greeting: `Hello ${name}!`.repeat(times) };\n}\n';
    case 'nativets':
      return 'export async function main(url: string) {\n  const res = await fetch(url);\n  return await res.text();\n}\n';
    case 'bash':
      return '# arguments are positional, in signature order\nname="${1:-world}"\necho "Hello $name"\n';
    case 'postgresql':
      return '-- $1 name = world\nSELECT \'Hello \' || $1::text AS greeting;\n';
    case 'mysql':
      return '-- ? name (text) = world\nSELECT CONCAT(\'Hello \', ?) AS greeting;\n';
    case 'mssql':
      return '-- @P1 name (varchar) = world\nSELECT \'Hello \' + @P1 AS greeting;\n';
    case 'bigquery':
      return '-- @name (string) = world\nSELECT CONCAT(\'Hello \', @name) AS greeting;\n';
    case 'snowflake':
      return '-- ? name (varchar) = world\nSELECT \'Hello \' || ? AS greeting;\n';
    case 'oracledb':
      return '-- :name (varchar2) = world\nSELECT \'Hello \' || :name AS greeting FROM dual\n';
    case 'duckdb':
      return '-- $name (text) = world\nSELECT \'Hello \' || $name AS greeting;\n';
    case 'graphql':
      return 'query($id: ID!) {\n  node(id: $id) {\n    id\n  }\n}\n';
    case 'go':
      return 'package inner\n\nimport "fmt"\n\nfunc main(name string) (interface{}, error) {\n\treturn fmt.Sprintf("Hello %s", name), nil\n}\n';
    case 'powershell':
      return 'param([string]$name = "world")\n\nWrite-Output "Hello $name"\n';
    case 'php':
      return '<?php\n\nfunction main(string $name = "world") {\n  return "Hello $name";\n}\n';
    case 'rust':
      return 'fn main(name: String) -> anyhow::Result<String> {\n    Ok(format!("Hello {}", name))\n}\n';
    case 'csharp':
      return 'public class Script\n{\n    public static string Main(string name = "world")\n    {\n        return $"Hello {name}";\n    }\n}\n';
    case 'nu':
      return 'def main [name: string = "world"] {\n  $"Hello ($name)"\n}\n';
    case 'java':
      return 'public class Main {\n  public static Object main(String name) {\n    return "Hello " + name;\n  }\n}\n';
    case 'ruby':
      return 'def main(name = "world")\n  "Hello #{name}"\nend\n';
    case 'rlang':
      return 'main <- function(name = "world") {\n  paste("Hello", name)\n}\n';
    case 'ansible':
      return '---\n- name: Hello\n  hosts: localhost\n  tasks:\n    - debug:\n        msg: hello\n';
    case 'dbt':
      return 'name: project\n';
  }
}
