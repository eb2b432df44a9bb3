import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WmillError } from '../errors.js';
import { loadConfig } from '../workspace/config.js';
import { extensionFor, LANGUAGES, type Language } from '../workspace/languages.js';
import { scriptTemplate } from '../workspace/templates.js';
import { writeFileAtomic } from '../util/fs.js';
import { out, printJson } from '../util/output.js';
import { defaultMetadata, renderMetadata } from '../metadata/script-metadata.js';
import { registerPreview } from './preview.js';
import { registerScriptRemote } from './script-remote.js';
import { registerScriptItems } from './items.js';

const PATH_RE = /^[ufg](\/[^/.\s]+){2,}$/;

export interface NewScript {
  content: string;
  metadata: string;
}

/** Create a script and its metadata; both files are created exclusively. */
export function newScript(root: string, path: string, language: string, defaultTs: 'bun' | 'deno', summary = '', description = ''): NewScript {
  const lang = (language === 'python' ? 'python3' : language) as Language;
  if (!LANGUAGES.includes(lang)) {
    throw new WmillError('usage', `unknown language '${language}'; use one of: ${LANGUAGES.join(', ')}, python`);
  }
  const p = path.replace(/^\/+/, '').replace(/\.[^/]*$/, '');
  if (!PATH_RE.test(p)) {
    throw new WmillError('usage', `invalid script path '${path}'; use f/<folder>/<name> or u/<user>/<name> (no dots)`);
  }
  const content = `${p}${extensionFor(lang, defaultTs)}`;
  const metadata = lang === 'dbt' ? `${p}__dbt/script.yaml` : `${p}.script.yaml`;
  for (const f of [content, metadata]) {
    if (existsSync(join(root, f))) throw new WmillError('usage', `${f} already exists; pick another path or delete it first`);
  }
  const meta = defaultMetadata();
  meta.summary = summary;
  meta.description = description;
  writeFileAtomic(join(root, content), scriptTemplate(lang));
  writeFileAtomic(join(root, metadata), renderMetadata(meta, 'yaml'));
  return { content, metadata };
}

export function registerScript(program: Command): void {
  const script = program.command('script').description('Work with scripts');
  registerPreview(script);
  registerScriptRemote(script);
  registerScriptItems(script);
  script
    .command('new')
    .alias('bootstrap')
    .argument('<path>', 'Windmill path, e.g. f/folder/name')
    .argument('<language>', `one of ${LANGUAGES.join(', ')}`)
    .option('--summary <text>', 'summary', '')
    .option('--description <text>', 'description', '')
    .option('--json', 'print the result as JSON')
    .description('Create a script from a template, with its .script.yaml')
    .action((path: string, language: string, opts: { summary: string; description: string; json?: boolean }) => {
      const cfg = loadConfig(process.cwd());
      const r = newScript(cfg.root, path, language, cfg.defaultTs, opts.summary, opts.description);
      if (opts.json) printJson({ ok: true, created: [r.content, r.metadata] });
      else {
        out(`Created ${r.content}`);
        out(`Created ${r.metadata}`);
        out(`Run 'wmill generate-metadata ${r.content}' after editing main's signature.`);
      }
    });
}
