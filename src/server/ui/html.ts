/**
 * HTML building blocks of the web UI: escaping (every value printed goes through `esc` or
 * `attr`), the page layout, the JSON handed to the client bundle, dates, and a line diff.
 * Pages are plain server-rendered HTML; the client bundle (src/server/ui/client/) adds the
 * editor, live logs and actions on top.
 */
export { esc } from '../../runner/approval-page.js';
import { esc } from '../../runner/approval-page.js';

/** A raw HTML fragment (already escaped). */
export class Html {
  constructor(readonly s: string) {}
  toString() {
    return this.s;
  }
}

/** Tagged template: interpolated values are escaped unless they are Html (or arrays of Html/strings, escaped one by one). */
export function h(strings: TemplateStringsArray, ...vals: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < vals.length; i++) out += piece(vals[i]) + strings[i + 1]!;
  return new Html(out);
}

function piece(v: unknown): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(piece).join('');
  return esc(String(v));
}

export const raw = (s: string) => new Html(s);

/** JSON for a `<script type="application/json">` element: nothing in it can close the element. */
export function jsonScript(id: string, data: unknown): Html {
  const s = JSON.stringify(data ?? null).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new Html(`<script type="application/json" id="${esc(id)}">${s}</script>`);
}

export function when(v: unknown): string {
  if (!v) return '';
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export interface LayoutOpts {
  title: string;
  ws?: string;
  user?: { username: string; email: string; isAdmin: boolean };
  /** Assets version, for cache busting. */
  asset: string;
  /** The page uses the client bundle. */
  script?: boolean;
  /** Other workspaces of the user (a switcher when there are any). */
  workspaces?: string[];
  /** Which nav entry is current. */
  nav?: 'home' | 'jobs' | 'schedules';
}

export function layout(o: LayoutOpts, body: Html): string {
  const nav = o.ws
    ? h`<nav><a class="brand" href="/w/${o.ws}/">wmill</a>
  <a href="/w/${o.ws}/"${o.nav === 'home' ? raw(' aria-current="page"') : ''}>Home</a>
  <a href="/w/${o.ws}/jobs"${o.nav === 'jobs' ? raw(' aria-current="page"') : ''}>Jobs</a>
  <a href="/w/${o.ws}/schedules"${o.nav === 'schedules' ? raw(' aria-current="page"') : ''}>Schedules &amp; triggers</a>
  <span class="grow"></span>
  ${(o.workspaces ?? []).filter((w) => w !== o.ws).length
    ? h`<details class="wsswitch"><summary class="ws">workspace <b>${o.ws}</b></summary><div class="wsmenu">${(o.workspaces ?? []).filter((w) => w !== o.ws).map((w) => h`<a href="/w/${encodeURIComponent(w)}/">${w}</a>`)}</div></details>`
    : h`<span class="ws">workspace <b>${o.ws}</b></span>`}
  ${o.user ? h`<span class="who" id="whoami">${o.user.username}${o.user.isAdmin ? ' (admin)' : ''}</span>
  <form method="post" action="/logout" class="inline"><button type="submit" id="signout">Sign out</button></form>` : ''}
</nav>`
    : h`<nav><a class="brand" href="/">wmill</a></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · wmill</title>
<link rel="stylesheet" href="/ui/app.css?v=${esc(o.asset)}">
${o.script ? `<script type="module" src="/ui/app.js?v=${esc(o.asset)}"></script>` : ''}
</head>
<body>
${nav}
<main>
${body}
</main>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Line diff (longest common subsequence over lines, after trimming the common ends)

export type DiffOp = { op: ' ' | '-' | '+'; line: string; a?: number; b?: number };

export function diffLines(a: string, b: string): DiffOp[] {
  const A = a.split('\n');
  const B = b.split('\n');
  let pre = 0;
  while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
  let suf = 0;
  while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
  const a1 = A.slice(pre, A.length - suf);
  const b1 = B.slice(pre, B.length - suf);
  const out: DiffOp[] = [];
  for (let i = 0; i < pre; i++) out.push({ op: ' ', line: A[i]!, a: i + 1, b: i + 1 });
  const n = a1.length;
  const m = b1.length;
  if (n * m > 4_000_000) {
    // Too large for the table: everything in the middle is replaced.
    a1.forEach((line, i) => out.push({ op: '-', line, a: pre + i + 1 }));
    b1.forEach((line, j) => out.push({ op: '+', line, b: pre + j + 1 }));
  } else {
    // lcs[i][j] = LCS length of a1[i..] and b1[j..]
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = a1[i] === b1[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a1[i] === b1[j]) {
        out.push({ op: ' ', line: a1[i]!, a: pre + i + 1, b: pre + j + 1 });
        i++;
        j++;
      } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        // removals before additions, as unified diffs show them
        out.push({ op: '-', line: a1[i]!, a: pre + i + 1 });
        i++;
      } else {
        out.push({ op: '+', line: b1[j]!, b: pre + j + 1 });
        j++;
      }
    }
  }
  for (let k = 0; k < suf; k++) {
    const ai = A.length - suf + k;
    const bi = B.length - suf + k;
    out.push({ op: ' ', line: A[ai]!, a: ai + 1, b: bi + 1 });
  }
  return out;
}

/** A diff as an HTML table; unchanged runs longer than 2×`context` lines are folded. */
export function diffTable(a: string, b: string, context = 3): Html {
  const ops = diffLines(a, b);
  if (!ops.some((o) => o.op !== ' ')) return h`<p class="muted diff-same">No differences.</p>`;
  const keep = new Array<boolean>(ops.length).fill(false);
  ops.forEach((o, i) => {
    if (o.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(ops.length - 1, i + context); k++) keep[k] = true;
  });
  const rows: Html[] = [];
  let skipped = 0;
  ops.forEach((o, i) => {
    if (!keep[i]) {
      skipped++;
      return;
    }
    if (skipped) rows.push(h`<tr class="fold"><td colspan="4">… ${skipped} unchanged line${skipped === 1 ? '' : 's'}</td></tr>`);
    skipped = 0;
    const cls = o.op === '+' ? 'add' : o.op === '-' ? 'del' : 'ctx';
    rows.push(h`<tr class="${cls}"><td class="ln">${o.a ?? ''}</td><td class="ln">${o.b ?? ''}</td><td class="op">${o.op}</td><td class="code">${o.line}</td></tr>`);
  });
  if (skipped) rows.push(h`<tr class="fold"><td colspan="4">… ${skipped} unchanged line${skipped === 1 ? '' : 's'}</td></tr>`);
  return h`<table class="diff">${rows}</table>`;
}
