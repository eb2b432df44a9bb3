/**
 * OpenFlow values (spec/windmill-server.md §7), validated with zod at the boundary: an unknown
 * module type, a step without its required fields, a duplicate or reserved id is a one-line
 * error naming the module id and the field.
 */
import { z } from 'zod';

const InputTransform = z.union([
  z.object({ type: z.literal('static'), value: z.unknown().optional() }).loose(),
  z.object({ type: z.literal('javascript'), expr: z.string() }).loose(),
]);
export type InputTransform = z.infer<typeof InputTransform>;
const Transforms = z.record(z.string(), InputTransform);

const Retry = z
  .object({
    constant: z.object({ attempts: z.number().int().min(0).optional(), seconds: z.number().min(0).optional() }).loose().optional(),
    exponential: z
      .object({ attempts: z.number().int().min(0).optional(), seconds: z.number().min(0).optional(), multiplier: z.number().optional(), random_factor: z.number().optional() })
      .loose()
      .optional(),
    retry_if: z.object({ expr: z.string() }).loose().optional(),
  })
  .loose();

export interface FlowModule {
  id: string;
  summary?: string;
  value: ModuleValue;
  stop_after_if?: { expr: string; skip_if_stopped?: boolean; error_message?: string | null };
  stop_after_all_iters_if?: { expr: string; skip_if_stopped?: boolean; error_message?: string | null };
  skip_if?: { expr: string };
  sleep?: InputTransform;
  timeout?: number;
  retry?: z.infer<typeof Retry>;
  suspend?: { required_events?: number; timeout?: number; continue_on_disapprove_timeout?: boolean; [k: string]: unknown };
  continue_on_error?: boolean;
  [k: string]: unknown;
}

export type ModuleValue =
  | { type: 'rawscript'; content: string; language: string; input_transforms?: Record<string, InputTransform>; lock?: string; tag?: string; path?: string }
  | { type: 'script'; path: string; hash?: string; input_transforms?: Record<string, InputTransform>; tag_override?: string }
  | { type: 'flow'; path: string; input_transforms?: Record<string, InputTransform> }
  | { type: 'forloopflow'; iterator: InputTransform; modules: FlowModule[]; skip_failures?: boolean; parallel?: boolean; parallelism?: InputTransform | number }
  | { type: 'whileloopflow'; modules: FlowModule[]; skip_failures?: boolean }
  | { type: 'branchone'; branches: { summary?: string; expr: string; modules: FlowModule[] }[]; default: FlowModule[] }
  | { type: 'branchall'; branches: { summary?: string; skip_failure?: boolean; modules: FlowModule[] }[]; parallel?: boolean }
  | { type: 'identity' };

export interface FlowValue {
  modules: FlowModule[];
  failure_module?: FlowModule;
  early_return?: string;
  [k: string]: unknown;
}

const Common = {
  id: z.string().min(1),
  summary: z.string().nullish(),
  stop_after_if: z.object({ expr: z.string(), skip_if_stopped: z.boolean().nullish(), error_message: z.string().nullish() }).loose().nullish(),
  stop_after_all_iters_if: z.object({ expr: z.string(), skip_if_stopped: z.boolean().nullish(), error_message: z.string().nullish() }).loose().nullish(),
  skip_if: z.object({ expr: z.string() }).loose().nullish(),
  sleep: InputTransform.nullish(),
  timeout: z.number().positive().nullish(),
  retry: Retry.nullish(),
  suspend: z.object({ required_events: z.number().int().min(0).nullish(), timeout: z.number().positive().nullish(), continue_on_disapprove_timeout: z.boolean().nullish() }).loose().nullish(),
  continue_on_error: z.boolean().nullish(),
};

const TYPES: Record<string, z.ZodType> = {
  rawscript: z.object({ type: z.literal('rawscript'), content: z.string(), language: z.string().min(1), input_transforms: Transforms.optional(), lock: z.string().nullish(), tag: z.string().nullish() }).loose(),
  script: z.object({ type: z.literal('script'), path: z.string().min(1), hash: z.string().nullish(), input_transforms: Transforms.optional() }).loose(),
  flow: z.object({ type: z.literal('flow'), path: z.string().min(1), input_transforms: Transforms.optional() }).loose(),
  forloopflow: z.object({ type: z.literal('forloopflow'), iterator: InputTransform, modules: z.array(z.unknown()), skip_failures: z.boolean().nullish(), parallel: z.boolean().nullish(), parallelism: z.union([InputTransform, z.number()]).nullish() }).loose(),
  whileloopflow: z.object({ type: z.literal('whileloopflow'), modules: z.array(z.unknown()), skip_failures: z.boolean().nullish() }).loose(),
  branchone: z.object({ type: z.literal('branchone'), branches: z.array(z.object({ expr: z.string(), modules: z.array(z.unknown()) }).loose()), default: z.array(z.unknown()).default([]) }).loose(),
  branchall: z.object({ type: z.literal('branchall'), branches: z.array(z.object({ modules: z.array(z.unknown()), skip_failure: z.boolean().nullish() }).loose()), parallel: z.boolean().nullish() }).loose(),
  identity: z.object({ type: z.literal('identity') }).loose(),
};

const RESERVED = new Set(['failure', 'preprocessor', 'Input']);

export class FlowDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowDefinitionError';
  }
}

function issue(e: z.ZodError, where: string): string {
  const i = e.issues[0]!;
  return `${where}: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`;
}

/** Validate a flow value; returns it typed, or throws FlowDefinitionError naming the module. */
export function validateFlow(raw: unknown, where = 'flow'): FlowValue {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new FlowDefinitionError(`${where}: value must be a mapping with modules`);
  const v = raw as Record<string, unknown>;
  if (!Array.isArray(v.modules)) throw new FlowDefinitionError(`${where}: value.modules must be a list of steps`);
  const seen = new Set<string>();
  const checkList = (mods: unknown, path: string, allowReserved = false) => {
    if (!Array.isArray(mods)) throw new FlowDefinitionError(`${where}: ${path} must be a list of steps`);
    mods.forEach((m, i) => checkModule(m, `${path}[${i}]`, allowReserved));
  };
  const checkModule = (m: unknown, path: string, allowReserved = false) => {
    const mm = m as Record<string, any>;
    const id = typeof mm?.id === 'string' ? mm.id : undefined;
    const label = id ? `module '${id}'` : `${path}`;
    const base = z.object(Common).loose().safeParse(m);
    if (!base.success) throw new FlowDefinitionError(issue(base.error, `${where}: ${label}`));
    if (!allowReserved && RESERVED.has(id!)) throw new FlowDefinitionError(`${where}: module id '${id}' is reserved; rename the step`);
    if (seen.has(id!)) throw new FlowDefinitionError(`${where}: module id '${id}' is used twice; ids must be unique in a flow`);
    seen.add(id!);
    const type = mm.value?.type;
    const schema = typeof type === 'string' ? TYPES[type] : undefined;
    if (!schema) {
      throw new FlowDefinitionError(`${where}: module '${id}' has ${type === undefined ? 'no value.type' : `unknown type '${String(type)}'`}; expected one of ${Object.keys(TYPES).join(', ')}`);
    }
    const r = schema.safeParse(mm.value);
    if (!r.success) throw new FlowDefinitionError(issue(r.error, `${where}: module '${id}' (${type})`));
    if (typeof mm.value.content === 'string' && mm.value.content.startsWith('!inline ')) {
      throw new FlowDefinitionError(`${where}: module '${id}': content '${mm.value.content}' was not resolved (missing inline file)`);
    }
    if (type === 'forloopflow' || type === 'whileloopflow') checkList(mm.value.modules, `${label}.modules`);
    if (type === 'branchone') {
      mm.value.branches.forEach((b: any, i: number) => checkList(b.modules, `${label}.branches[${i}]`));
      checkList(mm.value.default ?? [], `${label}.default`);
    }
    if (type === 'branchall') mm.value.branches.forEach((b: any, i: number) => checkList(b.modules, `${label}.branches[${i}]`));
  };
  checkList(v.modules, 'modules');
  if (v.failure_module) checkModule(v.failure_module, 'failure_module', true);
  return raw as FlowValue;
}

/** Flow input with the schema's defaults filled in for missing properties. */
export function applyInputDefaults(schema: unknown, args: Record<string, unknown>): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { default?: unknown }> } | null)?.properties;
  if (!props || typeof props !== 'object') return args;
  const out = { ...args };
  for (const [k, p] of Object.entries(props)) if (out[k] === undefined && p && p.default !== undefined && p.default !== null) out[k] = p.default;
  return out;
}
