/**
 * The run form of a script or flow, generated from its JSON schema: an input per argument,
 * named after it, with its type, default, enum and description; `format: resource-<type>`
 * arguments get a picker of the resources of that type the user may read (the value sent is
 * `$res:<path>`, as Windmill's form sends). The client bundle reads the inputs back into the
 * arguments object (`data-type` says how to parse each one).
 */
import { h, type Html } from './html.js';

export interface SchemaProp {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  title?: string;
  items?: { type?: string; enum?: unknown[] };
  contentEncoding?: string;
}

export interface ArgSchema {
  properties?: Record<string, SchemaProp>;
  required?: string[];
  order?: string[];
}

/** Resource-typed arguments' types (`format: resource-postgresql` → `postgresql`). */
export function resourceTypesOf(schema: ArgSchema | undefined): string[] {
  const out = new Set<string>();
  for (const p of Object.values(schema?.properties ?? {})) {
    const t = resourceType(p);
    if (t) out.add(t);
  }
  return [...out];
}

function resourceType(p: SchemaProp): string | undefined {
  return typeof p.format === 'string' && p.format.startsWith('resource-') ? p.format.slice('resource-'.length) : undefined;
}

const typeOf = (p: SchemaProp): string => (Array.isArray(p.type) ? (p.type.find((t) => t !== 'null') ?? 'string') : (p.type ?? 'object'));

function stringDefault(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v);
}

/** The form; `resources` maps a resource type to the paths the user may pick. */
export function runForm(schema: ArgSchema | undefined, resources: Map<string, string[]>, opts: { id: string; button: string; action: string; disabled?: string }): Html {
  const props = schema?.properties ?? {};
  const names = [...(schema?.order ?? []).filter((n) => n in props), ...Object.keys(props).filter((n) => !(schema?.order ?? []).includes(n))];
  const required = new Set(schema?.required ?? []);
  const fields = names.map((name) => {
    const p = props[name] ?? {};
    const type = typeOf(p);
    const id = `arg-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const rt = resourceType(p);
    const req = required.has(name);
    const label = h`<label for="${id}"><span class="argname">${name}</span>${req ? h`<span class="req" title="required">*</span>` : ''} <span class="argtype">${rt ? `resource ${rt}` : type}${p.format && !rt ? ` (${p.format})` : ''}</span></label>`;
    const help = p.description ? h`<small class="help">${p.description}</small>` : '';
    let input: Html;
    if (rt) {
      const paths = resources.get(rt) ?? [];
      const dflt = typeof p.default === 'string' ? p.default.replace(/^\$res:/, '') : '';
      input = h`<select id="${id}" name="${name}" data-type="resource"${req ? h` required` : ''}>
<option value="">${paths.length ? '— pick a resource —' : `no ${rt} resource you can read`}</option>
${paths.map((path) => h`<option value="${path}"${path === dflt ? h` selected` : ''}>${path}</option>`)}
</select>`;
    } else if (Array.isArray(p.enum)) {
      const dflt = stringDefault(p.default);
      input = h`<select id="${id}" name="${name}" data-type="${type === 'integer' || type === 'number' ? 'number' : 'string'}"${req ? h` required` : ''}>
${req && p.default !== undefined ? '' : h`<option value=""></option>`}
${p.enum.map((o) => h`<option value="${String(o)}"${String(o) === dflt ? h` selected` : ''}>${String(o)}</option>`)}
</select>`;
    } else if (type === 'boolean') {
      input = h`<input type="checkbox" id="${id}" name="${name}" data-type="boolean"${p.default === true ? h` checked` : ''}>`;
    } else if (type === 'integer' || type === 'number') {
      input = h`<input type="number" id="${id}" name="${name}" data-type="number" step="${type === 'integer' ? '1' : 'any'}" value="${stringDefault(p.default)}"${req ? h` required` : ''}>`;
    } else if (type === 'string') {
      const multi = p.format === 'textarea' || (typeof p.default === 'string' && p.default.includes('\n'));
      input = multi
        ? h`<textarea id="${id}" name="${name}" data-type="string" rows="4"${req ? h` required` : ''}>${stringDefault(p.default)}</textarea>`
        : h`<input type="${p.format === 'email' ? 'email' : p.format === 'date-time' ? 'datetime-local' : p.format === 'date' ? 'date' : 'text'}" id="${id}" name="${name}" data-type="string" value="${stringDefault(p.default)}"${req ? h` required` : ''}>`;
    } else {
      // object, array, anything else: JSON
      input = h`<textarea id="${id}" name="${name}" data-type="json" rows="3" placeholder="${type === 'array' ? '[ ]' : '{ }'} (JSON)"${req ? h` required` : ''}>${stringDefault(p.default)}</textarea>`;
    }
    return h`<div class="field" data-arg="${name}">${label}${input}${help}</div>`;
  });
  return h`<form class="runform" id="${opts.id}" data-action="${opts.action}">
${fields.length ? fields : h`<p class="muted">No arguments.</p>`}
<div class="buttons"><button type="submit" class="primary" id="${opts.id}-submit"${opts.disabled ? h` disabled title="${opts.disabled}"` : ''}>${opts.button}</button></div>
<p class="error" role="alert" hidden></p>
</form>`;
}
