/**
 * `wmill flow preview <folder>` (local, embedded runner), `wmill flow run <path>` (on the
 * server), `wmill flow history|show-version|redeploy` (a deployed flow's versions) and
 * `wmill flow new <path>`. Both runners show each step's progress live on stderr;
 * the flow's result goes to stdout as JSON. Exit 0 success, 1 the flow failed, 2 bad input,
 * 130/143 interrupted.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WmillError } from '../errors.js';
import { readDataArg } from '../util/data-arg.js';
import { color, err, out, printJson } from '../util/output.js';
import { remoteClient, remoteOptions, type RemoteFlags } from './remote-options.js';
import { registerFlowItems } from './items.js';

/** Colour decisions for stdout (the helpers default to stderr). */
const STDOUT = process.stdout as unknown as typeof process.stderr;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function printResult(result: unknown, success: boolean, opts: { json?: boolean; silent?: boolean }, id: string) {
  if (opts.json) printJson({ ok: success, result, job: { id, success } });
  else if (opts.silent) out(JSON.stringify(result));
  else {
    err(success ? 'Flow completed' : 'Flow failed');
    out(JSON.stringify(result, null, 2));
  }
}

export function registerFlow(program: Command): void {
  const flow = program.command('flow').description('Flows: preview locally, run on the server, create');
  registerFlowItems(flow);

  flow
    .command('preview')
    .argument('<folder>', 'the flow folder (<name>__flow or <name>.flow) or its flow.yaml')
    .option('-d, --data <json>', "flow input as JSON, '@file' or '@-'")
    .option('-s, --silent', 'print only the result, compact (no step logs)')
    .option('--json', 'print {ok, result, job} as JSON')
    .option('--approve', 'approve every suspend (approval) step at once instead of waiting for its URL')
    .option('--timeout <seconds>', 'fail the flow when it runs longer than this')
    .description('Run a local flow in the embedded runner, offline; steps and logs on stderr, result on stdout')
    .action(async (folder: string, opts: { data?: string; silent?: boolean; json?: boolean; approve?: boolean; timeout?: string }) => {
      const args = await readDataArg(opts.data, { cwd: process.cwd(), readStdin });
      const timeoutS = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeoutS !== undefined && !(timeoutS > 0)) throw new WmillError('usage', `--timeout must be a positive number of seconds (got "${opts.timeout}")`);
      const [{ readLocalFlow, localScripts, localFlows }, { Engine }, { MemoryStore }, { WorkspaceFiles }, { flowHandler }, { resumeUrlsFor }, { randomBytes }, { applyInputDefaults }] = await Promise.all([
        import('../runner/flow/local.js'),
        import('../runner/engine.js'),
        import('../runner/store.js'),
        import('../runner/workspace-files.js'),
        import('../runner/flow/handler.js'),
        import('../runner/flow/resume.js'),
        import('node:crypto'),
        import('../items/flow-schema.js'),
      ]);
      const lf = readLocalFlow(folder);
      const scripts = localScripts(lf.cfg);
      const flows = localFlows(lf.cfg);
      const store = new MemoryStore(new WorkspaceFiles(lf.cfg.root));
      const resumeKey = randomBytes(32).toString('hex');
      const engine = new Engine({ store, config: { tsRuntime: 'node' }, concurrency: 4, resumeKey, inheritEnv: true });
      const quiet = opts.silent || opts.json;
      const handler = flowHandler(engine, {
        resolveScript: async (_job, path) => scripts.get(path),
        resolveFlow: async (_job, path) => {
          const dir = flows.get(path);
          return dir ? readLocalFlow(dir).value : undefined;
        },
        resumeUrls: async (job) => resumeUrlsFor((await engine.apiServer()).baseUrl, job.workspace, resumeKey, job.id),
        onSuspend: (job, urls, step) => {
          if (opts.approve) {
            void store.addResume(job.id, { resumeId: Math.floor(Math.random() * 2 ** 31), approved: true, payload: null, approver: 'wmill flow preview --approve' });
            err(`step '${step}': approved (--approve)`);
          } else if (urls) {
            err(`step '${step}' is waiting for approval:\n  approve: curl -X POST '${urls.resume}'\n  reject:  curl -X POST '${urls.cancel}'\n  (or re-run with --approve)`);
          }
        },
      });
      engine.setHandler('flowpreview', handler);
      engine.setHandler('flow', handler);
      const id = await engine.submit(
        { workspace: 'local', kind: 'flowpreview', path: lf.path, language: 'flow' as never, content: '', flow: lf.value, args: applyInputDefaults(lf.schema, args), ...(timeoutS ? { timeoutS } : {}) },
        { onLog: quiet ? undefined : (c) => process.stderr.write(c) },
      );
      let interrupted: NodeJS.Signals | undefined;
      const onSig = (s: NodeJS.Signals) => {
        interrupted = s;
        void engine.cancel(id, engine.user, `interrupted (${s})`);
      };
      const onInt = () => onSig('SIGINT');
      const onTerm = () => onSig('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      try {
        const j = await engine.wait(id);
        if (interrupted) {
          process.exitCode = interrupted === 'SIGINT' ? 130 : 143;
          return;
        }
        printResult(j.result ?? null, j.status === 'success', opts, id);
        process.exitCode = j.status === 'success' ? 0 : 1;
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        await engine.close();
      }
    });

  flow
    .command('run')
    .argument('<path>', 'the deployed flow (e.g. f/folder/name)')
    .option('-d, --data <json>', "flow input as JSON, '@file' or '@-'")
    .option('-s, --silent', 'print only the result, compact (no step progress)')
    .option('--json', 'print {ok, result, job} as JSON')
    .description('Run a deployed flow on the server, following its steps live')
    .action(async (path: string, opts: { data?: string; silent?: boolean; json?: boolean; workspace?: string; baseUrl?: string; token?: string; configDir?: string }) => {
      const args = await readDataArg(opts.data, { cwd: process.cwd(), readStdin });
      const { ApiError } = await import('../api/client.js');
      const client = await remoteClient(opts);
      const enc = path.split('/').map(encodeURIComponent).join('/');
      let id: string;
      try {
        id = (await client.text('POST', client.ws(`/jobs/run/f/${enc}`), { body: args })).trim();
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 400)) throw new WmillError('usage', `flow ${path}: ${e.body.trim()}`);
        throw e;
      }
      const quiet = opts.silent || opts.json;
      // The flow job's log holds every step's log (iterations and branches included), with a
      // header per step: streaming it shows the whole run in order.
      let offset = 0;
      let approvalShown = false;
      for (;;) {
        const j = await client.json<any>('GET', client.ws(`/jobs_u/get/${id}`), { query: { no_logs: true } });
        if (!quiet) {
          const u = await client.json<any>('GET', client.ws(`/jobs_u/getupdate/${id}`), { query: { log_offset: offset } }).catch(() => undefined);
          if (u?.new_logs) process.stderr.write(u.new_logs);
          if (u) offset = u.log_offset ?? offset;
          const waiting = (j.flow_status?.modules ?? []).find((m: any) => m.type === 'WaitingForEvents' && m.resume_urls);
          if (waiting && !approvalShown) {
            approvalShown = true;
            err(`${waiting.id} is waiting for approval:\n  approve: curl -X POST '${waiting.resume_urls.resume}'\n  reject:  curl -X POST '${waiting.resume_urls.cancel}'`);
          }
        }
        if (j.type === 'CompletedJob') {
          printResult(j.result ?? null, !!j.success, opts, id);
          process.exitCode = j.success ? 0 : 1;
          return;
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    });

  remoteOptions(
    flow
      .command('history')
      .argument('<path>', 'Windmill path of the deployed flow')
      .option('--json', 'print {ok, path, current, versions} as JSON'),
  )
    .description('List the deployed versions of a flow, newest first (* marks the one that runs)')
    .action(async (path: string, opts: RemoteFlags) => {
      const client = await remoteClient(opts);
      const { flowHistory } = await import('../sync/flow-versions.js');
      const h = await flowHistory(client, path);
      if (opts.json) return printJson({ ok: true, ...h });
      const date = (s: string) => s.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
      const idw = Math.max(7, ...h.versions.map((v) => String(v.id).length));
      const who = Math.max(6, ...h.versions.map((v) => (v.created_by ?? '').length));
      out(`  ${'version'.padEnd(idw)}  ${'deployed at'.padEnd(19)}  ${'author'.padEnd(who)}  message`);
      for (const v of h.versions) {
        const line = `${v.current ? '*' : ' '} ${String(v.id).padEnd(idw)}  ${date(v.created_at).padEnd(19)}  ${(v.created_by ?? '').padEnd(who)}  ${v.message ?? '-'}`;
        out(v.current ? color.green(line, STDOUT) : line);
      }
      if (h.current === null) err(`note: ${h.path} is not deployed now (deleted or archived); 'wmill flow redeploy ${h.path} <version>' deploys a version again`);
    });

  remoteOptions(
    flow
      .command('show-version')
      .argument('<path>', 'Windmill path of the flow')
      .argument('<version>', "version id (see 'wmill flow history')")
      .option('--json', 'print {ok, flow} as JSON'),
  )
    .description('Show one deployed version of a flow: summary, description, schema and value')
    .action(async (path: string, version: string, opts: RemoteFlags) => {
      const client = await remoteClient(opts);
      const { flowVersion } = await import('../sync/flow-versions.js');
      const f = await flowVersion(client, path, version);
      if (opts.json) return printJson({ ok: true, flow: f });
      out(`Path: ${f.path}`);
      out(`Version: ${f.version_id}${f.edited_by ? ` (deployed by ${f.edited_by}${f.edited_at ? ` at ${String(f.edited_at).replace('T', ' ').replace(/\.\d+Z$|Z$/, '')}` : ''})` : ''}`);
      out(`Summary: ${f.summary || '-'}`);
      out(`Description: ${f.description || '-'}`);
      out('Schema:');
      out(JSON.stringify(f.schema ?? null, null, 2));
      out('Value:');
      out(JSON.stringify(f.value ?? null, null, 2));
    });

  remoteOptions(
    flow
      .command('redeploy')
      .argument('<path>', 'Windmill path of the flow')
      .argument('<version>', "the version to deploy again (see 'wmill flow history')")
      .option('--message <text>', 'deployment message (default: "Redeploy of version <version>")')
      .option('--json', 'print the result as JSON'),
  )
    .description('Deploy an old version of a flow again, as its newest version (history only grows)')
    .action(async (path: string, version: string, opts: RemoteFlags & { message?: string }) => {
      const client = await remoteClient(opts);
      const { redeployFlow } = await import('../sync/flow-versions.js');
      const r = await redeployFlow(client, path, version, opts.message);
      if (opts.json) return printJson({ ok: true, ...r });
      if (!r.deployed) return out(`version ${r.from} is already the current version of ${r.path}; nothing deployed`);
      out(`Deployed version ${r.from} of ${r.path} again as version ${r.version}`);
    });

  flow
    .command('new')
    .alias('bootstrap')
    .argument('<path>', 'Windmill path of the new flow, e.g. f/folder/name')
    .option('--summary <text>', 'summary', '')
    .description('Create a flow folder with a flow.yaml and one inline step')
    .action(async (path: string, opts: { summary: string }) => {
      const [{ loadConfig }, { writeFileAtomic }, { toYaml }] = await Promise.all([import('../workspace/config.js'), import('../util/fs.js'), import('../util/yaml.js')]);
      if (!/^[ufg]\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)+$/.test(path)) throw new WmillError('usage', `invalid flow path "${path}": expected f/<folder>/<name> or u/<user>/<name>`);
      const cfg = loadConfig(process.cwd());
      const folder = `${path}${cfg.nonDottedPaths ? '__flow' : '.flow'}`;
      if (existsSync(join(cfg.root, folder))) throw new WmillError('usage', `${folder} already exists`);
      const stepFile = cfg.nonDottedPaths ? 'hello.ts' : 'hello.inline_script.ts';
      const doc = {
        summary: opts.summary,
        description: '',
        value: {
          modules: [
            {
              id: 'a',
              summary: 'Hello',
              value: { type: 'rawscript', content: `!inline ${stepFile}`, language: cfg.defaultTs, input_transforms: { name: { type: 'javascript', expr: 'flow_input.name' } } },
            },
          ],
        },
        schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { name: { type: 'string', description: '', default: 'world' } }, required: [] },
      };
      writeFileAtomic(join(cfg.root, folder, stepFile), 'export async function main(name: string) {\n  return `Hello, ${name}!`;\n}\n');
      writeFileAtomic(join(cfg.root, folder, 'flow.yaml'), toYaml(doc));
      out(`Created ${folder}/flow.yaml and ${folder}/${stepFile}`);
    });
}
