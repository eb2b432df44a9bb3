#!/usr/bin/env python3
"""Signature extraction for Python scripts, run by src/metadata/parsers/python.ts.

Protocol: one JSON document on stdin, {"items": [{"id": str, "code": str}, ...]}, and one
JSON document on stdout, {"results": [{"id": str, "output": {...}}, ...]}, in input order.
Only the standard library is used (ast, json), so any python3 >= 3.8 works.

The output mirrors what Windmill's `parse_python` (windmill-parser-wasm-py) returns, rules
observed on the conformance corpus and documented behaviour:
  * `main` is located by a line that starts with `def main(` (or `async def main(`); only
    the text up to the parenthesis that closes its parameter list is parsed, so the body
    and the return annotation do not matter;
  * only positional-or-keyword parameters are arguments (`*args`, keyword-only parameters
    and `**kwargs` are dropped);
  * annotations map to types (str, int, float, bool, bytes, datetime, date, dict, list,
    List[T], Optional[T], T | None, Literal[...], DynSelect_x, wmill.X, Enum classes,
    pydantic models/dataclasses, and any other name as a resource type);
  * defaults are understood when they are literals (strings, numbers, booleans, None, lists
    and dicts of those); calls become "<function call>"; anything else is no default;
  * untyped arguments (and bare `list`) take the type of their default.
A file that Python itself cannot parse is reported as a syntax error (message and line).
"""
import ast
import json
import math
import sys
import warnings

FUNCTION_CALL = "<function call>"
I64_MAX = 2 ** 63 - 1
U64_MAX = 2 ** 64 - 1
MAX_MODEL_FIELDS = 200
MAX_RECURSION_DEPTH = 10
ENUM_BASES = ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag")
UNKNOWN = "unknown"


# ---------------------------------------------------------------------------------------
# Text helpers (the reference works on raw lines before parsing)
# ---------------------------------------------------------------------------------------

def rust_lines(s):
    """Lines as Rust's str::lines() yields them: split on \\n, trailing \\r removed,
    no final empty line for a trailing newline."""
    if s == "":
        return []
    parts = s.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def blen(s):
    return len(s.encode("utf-8", "surrogatepass"))


def indent_of(line):
    return blen(line) - blen(line.lstrip())


def filter_def(code, name):
    """`def <name>(` + its parameter list + `: return`, or '' when no line starts with the
    definition. Parentheses are counted naively, as the reference does."""
    prefixes = ("def %s(" % name, "async def %s(" % name)
    lines = code.split("\n")
    remaining = None
    for idx, line in enumerate(lines):
        for p in prefixes:
            if line.startswith(p):
                # the rest of the definition line, then the following lines (newlines kept)
                remaining = line[len(p):] + "\n" + "\n".join(lines[idx + 1:])
                break
        if remaining is not None:
            break
    if remaining is None:
        return ""
    out = ["def %s(" % name]
    depth = 1
    for ch in remaining:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        out.append(ch)
        if depth == 0:
            break
    out.append(": return")
    return "".join(out)


def should_parse_for_models(code):
    return (
        "BaseModel" in code
        or "from pydantic" in code
        or "import pydantic" in code
        or "@dataclass" in code
        or "from dataclasses" in code
        or "import dataclasses" in code
    )


def is_wac(code):
    # the reference's text test: a workflow decorator or call and an import of wmill (tasks are
    # optional; `@wmill.workflow` is not seen, `workflow (` neither)
    return ("@workflow" in code or "workflow(" in code) and ("import wmill" in code or "from wmill" in code)


# ---------------------------------------------------------------------------------------
# Enum classes and docstring descriptions
# ---------------------------------------------------------------------------------------

def filter_relevant_statements(code):
    lines = rust_lines(code)
    result = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        i += 1
        trimmed = line.lstrip()
        if trimmed.startswith("class ") or trimmed.startswith("def "):
            result.append(line)
            base = indent_of(line)
            while i < n:
                nxt = lines[i]
                if nxt.lstrip() == "" or indent_of(nxt) > base:
                    result.append(nxt)
                    i += 1
                else:
                    break
    return "\n".join(result)


def parse_docstring_args(doc):
    descriptions = {}
    in_args = False
    base = None
    for line in rust_lines(doc):
        trimmed = line.strip()
        if trimmed == "Args:":
            in_args = True
            base = None
            continue
        if not in_args:
            continue
        if trimmed == "":
            continue
        ind = indent_of(line)
        if base is None:
            base = ind
        if ind < base and trimmed.endswith(":"):
            break
        colon = trimmed.find(":")
        if colon >= 0:
            before = trimmed[:colon]
            desc = trimmed[colon + 1:].strip()
            paren = before.find("(")
            key = before[:paren].strip() if paren >= 0 else before.strip()
            descriptions[key] = desc
    return descriptions


def extract_code_metadata(code, main_name):
    """(enums, descriptions): enums = {class name: (values, {member: value})}."""
    enums = {}
    descriptions = {}
    has_enum = "Enum" in code
    has_doc = "Args:" in code
    if not has_enum and not has_doc:
        return enums, descriptions
    try:
        tree = ast.parse(filter_relevant_statements(code))
    except Exception:
        return enums, descriptions
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            if not has_enum:
                continue
            if not any(isinstance(b, ast.Name) and b.id in ENUM_BASES for b in stmt.bases):
                continue
            values = []
            members = {}
            for item in stmt.body:
                if not isinstance(item, ast.Assign) or not item.targets:
                    continue
                target = item.targets[0]
                if not isinstance(target, ast.Name) or target.id.startswith("_"):
                    continue
                if isinstance(item.value, ast.Constant) and isinstance(item.value.value, str):
                    values.append(item.value.value)
                    members[target.id] = item.value.value
            if values:
                enums[stmt.name] = (values, members)
        elif isinstance(stmt, ast.FunctionDef):
            if not has_doc or stmt.name != main_name or not stmt.body:
                continue
            first = stmt.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                descriptions = parse_docstring_args(first.value.value)
    return enums, descriptions


# ---------------------------------------------------------------------------------------
# Pydantic models and dataclasses (only looked for when the file mentions them)
# ---------------------------------------------------------------------------------------

def _is_name(e, name):
    return isinstance(e, ast.Name) and e.id == name


def _is_attr(e, owner, attr):
    return isinstance(e, ast.Attribute) and e.attr == attr and _is_name(e.value, owner)


def is_pydantic_base(bases):
    return any(_is_name(b, "BaseModel") or _is_attr(b, "pydantic", "BaseModel") for b in bases)


def _is_dataclass_ref(e):
    return _is_name(e, "dataclass") or _is_attr(e, "dataclasses", "dataclass")


def _is_pydantic_dataclass_ref(e):
    return (
        isinstance(e, ast.Attribute)
        and e.attr == "dataclass"
        and _is_attr(e.value, "pydantic", "dataclasses")
    )


def has_dataclass_decorator(decorators):
    for d in decorators:
        if _is_dataclass_ref(d) or _is_pydantic_dataclass_ref(d):
            return True
        if isinstance(d, ast.Call) and (_is_dataclass_ref(d.func) or _is_pydantic_dataclass_ref(d.func)):
            return True
    return False


def detect_model(class_name, module, visited):
    if class_name in visited:
        return {"name": class_name, "props": None}
    for stmt in module:
        if isinstance(stmt, ast.ClassDef) and stmt.name == class_name:
            if not (is_pydantic_base(stmt.bases) or has_dataclass_decorator(stmt.decorator_list)):
                return None
            visited.add(class_name)
            try:
                props = []
                for item in stmt.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        typ = field_type(item.annotation, 0, module, visited)
                        if len(props) >= MAX_MODEL_FIELDS:
                            break
                        props.append({"key": item.target.id, "typ": typ})
            finally:
                visited.discard(class_name)
            return {"name": class_name, "props": props or None}
    return None


FIELD_SCALARS = {
    "str": {"str": None},
    "int": "int",
    "float": "float",
    "bool": "bool",
    "bytes": "bytes",
    "datetime": "datetime",
    "date": "date",
    "Any": UNKNOWN,
}


def field_type(ann, depth, module, visited):
    if depth >= MAX_RECURSION_DEPTH:
        return UNKNOWN
    if isinstance(ann, ast.Name):
        if ann.id in FIELD_SCALARS:
            return clone(FIELD_SCALARS[ann.id])
        model = detect_model(ann.id, module, visited)
        return {"object": model} if model is not None else UNKNOWN
    if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name):
        head = ann.value.id
        inner = subscript_slice(ann)
        if head in ("List", "list"):
            return {"list": field_type(inner, depth + 1, module, visited)}
        if head == "Optional":
            return field_type(inner, depth + 1, module, visited)
        if head in ("Dict", "dict"):
            return {"object": {"name": None, "props": []}}
        if head == "Annotated":
            if isinstance(inner, ast.Tuple) and inner.elts:
                return field_type(inner.elts[0], depth + 1, module, visited)
            return UNKNOWN
    return UNKNOWN


# ---------------------------------------------------------------------------------------
# Annotations
# ---------------------------------------------------------------------------------------

def clone(v):
    return json.loads(json.dumps(v))


def subscript_slice(sub):
    s = sub.slice
    # Python 3.8 wraps subscripts in ast.Index
    if hasattr(ast, "Index") and isinstance(s, getattr(ast, "Index")):
        s = s.value
    return s


def is_none_const(e):
    return isinstance(e, ast.Constant) and e.value is None


def is_resource(t):
    return isinstance(t, dict) and "resource" in t


def parse_typ(name, enums, module):
    if name in enums:
        return {"str": list(enums[name][0])}
    if name == "str":
        return {"str": None}
    if name in ("float", "int", "bool", "bytes"):
        return name
    if name == "dict":
        return {"object": {"name": None, "props": []}}
    if name == "list":
        return {"list": UNKNOWN}
    if name in ("datetime", "datetime.datetime"):
        return "datetime"
    if name in ("date", "datetime.date"):
        return "date"
    if name in ("Sql", "sql"):
        return "sql"
    if name.startswith("DynSelect_"):
        return {"dynselect": name[len("DynSelect_"):]}
    if name.startswith("DynMultiselect_"):
        return {"dynmultiselect": name[len("DynMultiselect_"):]}
    if module is not None:
        model = detect_model(name, module, set())
        if model is not None:
            return {"object": model}
    return {"resource": "s3_object" if name == "S3Object" else name}


def parse_expr(e, enums, module):
    """(type, optional): optional is True for Optional[T] and T | None."""
    if isinstance(e, ast.Name):
        return parse_typ(e.id, enums, module), False
    if isinstance(e, ast.Attribute):
        if isinstance(e.value, ast.Name):
            if e.value.id == "wmill":
                return parse_typ(e.attr, enums, module), False
            if e.value.id == "datetime":
                return parse_typ("datetime." + e.attr, enums, module), False
        return UNKNOWN, False
    if isinstance(e, ast.BinOp):
        if is_none_const(e.right):
            return parse_expr(e.left, enums, module)[0], True
        return UNKNOWN, False
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name):
        head = e.value.id
        inner = subscript_slice(e)
        if head == "Literal":
            values = None
            if isinstance(inner, ast.Tuple):
                strs = [
                    x.value for x in inner.elts
                    if isinstance(x, ast.Constant) and isinstance(x.value, str)
                ]
                values = strs or None
            return {"str": values}, False
        if head in ("List", "list"):
            return {"list": parse_expr(inner, enums, module)[0]}, False
        if head == "Optional":
            return parse_expr(inner, enums, module)[0], True
        return UNKNOWN, False
    return UNKNOWN, False


def list_union_otyp(e):
    """`T | list[T]` / `list[T] | T` (T a plain name; `List` spelled `list`) keeps its text as
    `otyp`, e.g. "list[str] | str"; the type itself stays unknown."""
    if not isinstance(e, ast.BinOp) or is_none_const(e.right):
        return None

    def list_of(x):
        if isinstance(x, ast.Subscript) and isinstance(x.value, ast.Name) and x.value.id in ("list", "List"):
            inner = subscript_slice(x)
            if isinstance(inner, ast.Name):
                return inner.id
        return None

    if isinstance(e.right, ast.Name) and list_of(e.left) == e.right.id:
        return "list[%s] | %s" % (e.right.id, e.right.id)
    if isinstance(e.left, ast.Name) and list_of(e.right) == e.left.id:
        return "%s | list[%s]" % (e.left.id, e.left.id)
    return None


# ---------------------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------------------

_NONE = object()  # "not understood" (distinct from a JSON null)


def float_value(f):
    return f if math.isfinite(f) else None


def int_value(i):
    if i <= U64_MAX:
        return i
    try:
        return float_value(float(i))
    except OverflowError:
        return "invalid number"


def constant_value(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int_value(v)
    if isinstance(v, float):
        return float_value(v)
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, complex):
        return [float_value(v.real), float_value(v.imag)]
    if v is Ellipsis:
        return "..."
    if isinstance(v, (tuple, frozenset)):
        return [constant_value(x) for x in v]
    return None


def to_value(e, enums):
    if isinstance(e, ast.Constant):
        return constant_value(e.value)
    if isinstance(e, ast.Dict):
        obj = {}
        for k, v in zip(e.keys, e.values):
            key = "no_key"
            if k is not None:
                kv = to_value(k, enums)
                if isinstance(kv, str):
                    key = kv
            val = to_value(v, enums)
            obj[key] = None if val is _NONE else val
        return {k: obj[k] for k in sorted(obj)}
    if isinstance(e, ast.List):
        out = []
        for x in e.elts:
            val = to_value(x, enums)
            out.append(None if val is _NONE else val)
        return out
    if isinstance(e, ast.Attribute):
        if isinstance(e.value, ast.Name):
            info = enums.get(e.value.id)
            if info is not None and e.attr in info[1]:
                return info[1][e.attr]
            return e.attr
        return _NONE
    if isinstance(e, ast.Call):
        return FUNCTION_CALL
    return _NONE


def json_to_typ(v):
    if isinstance(v, str):
        return {"str": None}
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int" if v <= I64_MAX else "float"
    if isinstance(v, float):
        return "float"
    if isinstance(v, dict):
        return {"object": {"name": None, "props": [{"key": k, "typ": json_to_typ(x)} for k, x in v.items()]}}
    if isinstance(v, list):
        return {"list": json_to_typ(v[0]) if v else UNKNOWN}
    return UNKNOWN


# ---------------------------------------------------------------------------------------
# Signature
# ---------------------------------------------------------------------------------------

def find_main(body, name):
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            return stmt
    return None


def invalid():
    """What the reference answers when it cannot parse the text it extracted."""
    return {"type": "Invalid", "args": [], "has_preprocessor": None}


def parse_signature(code, main_name="main"):
    try:
        full = ast.parse(code[1:] if code.startswith("\ufeff") else code)
    except SyntaxError as e:
        err = {"message": e.msg or "invalid syntax"}
        if e.lineno:
            err["line"] = e.lineno
        if e.offset:
            err["column"] = e.offset
        return {"args": [], "has_preprocessor": False, "error": err}
    except ValueError as e:  # e.g. null bytes
        return {"args": [], "has_preprocessor": False, "error": {"message": str(e)}}

    has_preprocessor = filter_def(code, "preprocessor") != ""
    wac = is_wac(code)

    module = None
    if should_parse_for_models(code):
        module = full.body
        fn = find_main(full.body, main_name)
    else:
        filtered = filter_def(code, main_name)
        fn = None
        if filtered:
            try:
                fn = find_main(ast.parse(filtered).body, main_name)
            except (SyntaxError, ValueError):
                # valid file, but the naive extraction broke it (e.g. a ")" inside a string
                # default): the reference reports the script as invalid
                return invalid()

    if fn is None:
        return {
            "star_args": False,
            "star_kwargs": False,
            "args": [],
            "auto_kind": "wac" if wac else "lib",
            "has_preprocessor": has_preprocessor,
        }

    params = fn.args
    args = params.args
    defaults = params.defaults
    def_start = len(args) - len(defaults)

    no_enums = {}
    first = []
    for a in args:
        if a.annotation is None:
            first.append((UNKNOWN, False))
        else:
            first.append(parse_expr(a.annotation, no_enums, module))

    if any(is_resource(t) for t, _ in first) or "Args:" in code:
        enums, descriptions = extract_code_metadata(code, main_name)
    else:
        enums, descriptions = {}, {}

    out_args = []
    for i, a in enumerate(args):
        typ, optional = first[i]
        if is_resource(typ) and enums and a.annotation is not None:
            typ, optional = parse_expr(a.annotation, enums, module)
        default = _NONE
        if def_start >= 0 and i >= def_start:
            default = to_value(defaults[i - def_start], enums)
        if (typ == UNKNOWN or typ == {"list": UNKNOWN}) and default is not _NONE and default != FUNCTION_CALL:
            typ = json_to_typ(default)
        if typ == {"list": UNKNOWN}:
            typ = {"list": {"str": None}}
        out_args.append({
            "name": a.arg,
            "otyp": (list_union_otyp(a.annotation) if a.annotation is not None else None)
            or descriptions.get(a.arg),
            "typ": typ,
            "default": None if default is _NONE else default,
            "has_default": optional or default is not _NONE,
            "oidx": None,
        })

    return {
        "star_args": params.vararg is not None,
        "star_kwargs": params.kwarg is not None,
        "args": out_args,
        "auto_kind": "wac" if wac else None,
        "has_preprocessor": has_preprocessor,
    }


def main():
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(10000)
    raw = sys.stdin.buffer.read().decode("utf-8", "surrogatepass")
    request = json.loads(raw) if raw.strip() else {"items": []}
    results = []
    for item in request.get("items", []):
        try:
            output = parse_signature(item.get("code", ""))
        except Exception:  # never let one script break the batch
            output = invalid()
        results.append({"id": item.get("id"), "output": output})
    sys.stdout.write(json.dumps({"results": results}, ensure_ascii=True, allow_nan=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
