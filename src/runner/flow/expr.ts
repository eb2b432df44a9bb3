/**
 * JavaScript expressions of OpenFlow (input transforms, `stop_after_if`, `skip_if`, branch
 * conditions, iterators): evaluated in a fresh `node:vm` context that sees only the names
 * Windmill documents (`flow_input`, `results`, `previous_result`, `result`, `error`, `iter`,
 * `resume`, ...), with a time limit, so an expression that loops forever is stopped with a
 * clear error instead of hanging the flow.
 */
import { createContext, Script } from 'node:vm';

export const EXPR_TIMEOUT_MS = 1000;

export class ExprError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const cache = new Map<string, Script>();

function compile(expr: string): Script {
  let s = cache.get(expr);
  if (!s) {
    // A body with statements (`return x`) is run as a function; a bare expression as an expression.
    const code = /(^|[;\n])\s*return\b/.test(expr) ? `(() => { ${expr}\n})()` : `(${expr}\n)`;
    s = new Script(code, { filename: 'flow-expression.js' });
    if (cache.size > 5000) cache.clear();
    cache.set(expr, s);
  }
  return s;
}

/** Evaluate `expr` with `scope`; `where` names the module and field for messages. */
export function evalExpr(expr: string, scope: Record<string, unknown>, where: string, timeoutMs = EXPR_TIMEOUT_MS): unknown {
  let script: Script;
  try {
    script = compile(expr);
  } catch (e) {
    throw new ExprError(`${where}: invalid expression \`${short(expr)}\`: ${(e as Error).message}`);
  }
  // JSON round trip: the expression gets plain copies (no access to our objects or prototypes).
  const ctx = createContext(JSON.parse(JSON.stringify(scope, (_k, v) => (v === undefined ? null : v))), { codeGeneration: { strings: false, wasm: false } });
  try {
    const v = script.runInContext(ctx, { timeout: timeoutMs, breakOnSigint: true });
    return v === undefined ? null : JSON.parse(JSON.stringify(v) ?? 'null');
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new ExprError(`${where}: expression \`${short(expr)}\` did not finish within ${timeoutMs} ms (an infinite loop?) and was stopped`);
    throw new ExprError(`${where}: expression \`${short(expr)}\` failed: ${err?.message ?? String(e)}`);
  }
}

function short(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}
