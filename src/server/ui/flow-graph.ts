/**
 * A flow (OpenFlow value) drawn as a graph in HTML: steps top to bottom, branches side by side,
 * loops as a frame around their steps, the failure module apart. With a run's `flow_status`, each
 * top-level step shows its status (and the iteration or branch taken).
 */
import type { FlowModule, FlowValue } from '../../items/flow-schema.js';
import { h, type Html } from './html.js';

export interface ModuleStatusLite {
  id: string;
  type: string;
  job?: string | null;
  flow_jobs?: string[];
  iterator?: { index: number };
  branch_chosen?: { type: string; branch?: number };
}

const STATUS_CLASS: Record<string, string> = {
  WaitingForPriorSteps: 'waiting',
  WaitingForEvents: 'suspended',
  InProgress: 'running',
  Success: 'success',
  Failure: 'failure',
};

function describe(m: FlowModule): string {
  const v = m.value as Record<string, any>;
  switch (v.type) {
    case 'rawscript':
      return `inline ${v.language}`;
    case 'script':
      return `script ${v.path}${v.hash ? ` @${v.hash}` : ''}`;
    case 'flow':
      return `flow ${v.path}`;
    case 'forloopflow':
      return `for each${v.parallel ? ' (parallel)' : ''}`;
    case 'whileloopflow':
      return 'while loop';
    case 'branchone':
      return 'branch to one';
    case 'branchall':
      return `branch to all${v.parallel ? ' (parallel)' : ''}`;
    case 'identity':
      return 'identity';
    default:
      return String(v.type);
  }
}

function node(m: FlowModule, status: Map<string, ModuleStatusLite>, ws: string): Html {
  const v = m.value as Record<string, any>;
  const st = status.get(m.id);
  const cls = st ? (STATUS_CLASS[st.type] ?? 'waiting') : '';
  const head = h`<div class="node-head"><span class="node-id">${m.id}</span> <span class="node-kind">${describe(m)}</span>${
    st ? h` <span class="badge ${cls}" data-step-status="${m.id}">${st.type}</span>` : ''
  }</div>${m.summary ? h`<div class="node-summary">${m.summary}</div>` : ''}${
    m.suspend ? h`<div class="node-note">waits for ${m.suspend.required_events ?? 1} approval(s)</div>` : ''
  }${v.type === 'script' && typeof v.path === 'string' ? h`<div class="node-note"><a href="/w/${ws}/script/${v.path}">open ${v.path}</a></div>` : ''}${
    v.type === 'flow' && typeof v.path === 'string' ? h`<div class="node-note"><a href="/w/${ws}/flow/${v.path}">open ${v.path}</a></div>` : ''
  }${st?.iterator ? h`<div class="node-note">iteration ${st.iterator.index + 1}${st.flow_jobs ? ` of ${st.flow_jobs.length}` : ''}</div>` : ''}${
    st?.branch_chosen ? h`<div class="node-note">took ${st.branch_chosen.type === 'default' ? 'the default branch' : `branch ${(st.branch_chosen.branch ?? 0) + 1}`}</div>` : ''
  }`;
  if (v.type === 'forloopflow' || v.type === 'whileloopflow') {
    return h`<div class="node loop ${cls}" data-module="${m.id}">${head}<div class="loop-body">${steps(v.modules ?? [], status, ws)}</div></div>`;
  }
  if (v.type === 'branchone' || v.type === 'branchall') {
    const branches: { label: string; modules: FlowModule[] }[] = (v.branches ?? []).map((b: any, i: number) => ({
      label: `${i + 1}. ${b.summary || (v.type === 'branchone' ? `if ${b.expr}` : `branch ${i + 1}`)}`,
      modules: b.modules ?? [],
    }));
    if (v.type === 'branchone') branches.push({ label: 'default', modules: v.default ?? [] });
    return h`<div class="node branch ${cls}" data-module="${m.id}">${head}<div class="branches">${branches.map(
      (b) => h`<div class="branch-col"><div class="branch-label">${b.label}</div>${b.modules.length ? steps(b.modules, status, ws) : h`<div class="muted">(no step)</div>`}</div>`,
    )}</div></div>`;
  }
  return h`<div class="node ${cls}" data-module="${m.id}">${head}</div>`;
}

function steps(mods: FlowModule[], status: Map<string, ModuleStatusLite>, ws: string): Html {
  return h`<div class="steps">${mods.map((m, i) => h`${i ? h`<div class="edge" aria-hidden="true">↓</div>` : ''}${node(m, status, ws)}`)}</div>`;
}

export function flowGraph(flow: FlowValue | undefined, ws: string, flowStatus?: { modules?: ModuleStatusLite[]; failure_module?: ModuleStatusLite }): Html {
  if (!flow || !Array.isArray(flow.modules)) return h`<p class="muted">No flow value.</p>`;
  const status = new Map<string, ModuleStatusLite>();
  for (const s of flowStatus?.modules ?? []) status.set(s.id, s);
  if (flowStatus?.failure_module && flow.failure_module) status.set(flow.failure_module.id, flowStatus.failure_module);
  return h`<div class="flowgraph">
<div class="node terminal">Input</div><div class="edge" aria-hidden="true">↓</div>
${steps(flow.modules, status, ws)}
<div class="edge" aria-hidden="true">↓</div><div class="node terminal">Result</div>
${flow.failure_module ? h`<div class="failure"><div class="failure-label">On failure</div>${node(flow.failure_module, status, ws)}</div>` : ''}
</div>`;
}
