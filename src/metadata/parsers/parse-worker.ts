/**
 * A worker thread that parses TypeScript signatures for `parseScripts` (./index.ts) when a run has
 * many stale TypeScript scripts: the main thread parses one share, this worker another, on the
 * second core. It receives `{ id, code }[]` and answers `[id, ParseOutput][]` in the same order.
 */
import { parentPort } from 'node:worker_threads';
import { loadTs, parseTs } from './typescript.js';

parentPort!.once('message', async (reqs: { id: string; code: string }[]) => {
  try {
    await loadTs();
    parentPort!.postMessage({ ok: reqs.map((r) => [r.id, parseTs(r.code)]) });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
