/**
 * PowerShell jobs, as Windmill runs them: `pwsh` (PowerShell 7, `WMILL_PWSH` or on PATH) runs the
 * script with its arguments bound by name to its `param(...)` block (values from JSON: strings as
 * they are, numbers, booleans, lists and objects as PowerShell values). The working directory is
 * the job folder. Result: `./result.json` if the script wrote one (JSON), else `./result.out`
 * (text), else the last line of the output, as for Bash.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecOutcome } from '../types.js';
import { outcomeOf, shellJobResult } from './common.js';
import type { ExecContext, Executor } from './index.js';
import { runProcess } from './process.js';

/** The wrapper: reads args.json, keeps the parameters the script declares, and calls it with them. */
const WRAPPER = `$ErrorActionPreference = 'Stop'
$parsed = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'args.json') | ConvertFrom-Json -AsHashtable
$declared = (Get-Command -Name (Join-Path $PSScriptRoot 'main.ps1')).Parameters.Keys
$bound = @{}
foreach ($k in $parsed.Keys) { if ($declared -contains $k) { $bound[$k] = $parsed[$k] } }
& (Join-Path $PSScriptRoot 'main.ps1') @bound
`;

export const PWSH = (): string => process.env.WMILL_PWSH || 'pwsh';

export const powershellExecutor: Executor = {
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    writeFileSync(join(ctx.jobDir, 'main.ps1'), ctx.job.file ? readFileSync(ctx.job.file, 'utf8') : ctx.job.content);
    writeFileSync(join(ctx.jobDir, 'args.json'), JSON.stringify(ctx.args ?? {}));
    writeFileSync(join(ctx.jobDir, 'wrapper.ps1'), WRAPPER);
    let output = '';
    let tail = '';
    const end = await runProcess({
      cmd: PWSH(),
      args: ['-NoProfile', '-NonInteractive', '-NoLogo', '-File', join(ctx.jobDir, 'wrapper.ps1')],
      cwd: ctx.jobDir,
      env: ctx.env,
      sandbox: ctx.config.sandbox,
      signal: ctx.signal,
      onOutput: (chunk) => {
        output = (output + chunk).slice(-64 * 1024);
        tail = output.slice(-2000);
        ctx.log(chunk);
      },
    });
    if (end.spawnError || end.code !== 0) return outcomeOf(end, { ok: false }, 'pwsh', tail);
    return shellJobResult(ctx.jobDir, output);
  },
};
