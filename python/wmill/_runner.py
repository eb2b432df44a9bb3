"""wmill: Python job wrapper, run by src/runner/executors/python.ts.

    python3 -u _runner.py <result.json>   (the job as JSON on stdin)

stdin is {"script": "<file>", "args": {...}, "argNames": [...] | null, "root": "<workspace root>"
| null, "env": {...}}; `env` is set in os.environ before the script is imported. The interpreter
can thus be started before the job is known (prewarm) without running any user code early.
The script is imported as a module (its `if __name__ == "__main__":` block does not run),
`main` is called with the arguments by name (async mains are awaited), and its return value
is written to result.json as JSON. An exception writes {"error": {name, message, stack}} and
exits 1. stdout/stderr are the job's logs. Only the standard library is used.

Workflow-as-code v2: when stdin has "wac": {"checkpoint": {...}} (non-null), the job is one round
of a workflow (wmill/_wac.py): the function marked @workflow (`main` first) is run with a
WorkflowCtx built from the checkpoint (`completed_steps`, `_executing_key`), and result.json is
{"__wac": OUTPUT} (exit 0), OUTPUT being one of
  {"type": "complete", "result": R}
  {"type": "dispatch", "mode": "sequential" | "parallel", "steps": [{name, script, args, key,
      dispatch_type: "inline" | "script" | "flow", timeout?, tag?, cache_ttl?, priority?,
      concurrent_limit?, concurrency_key?, concurrency_time_window_s?}]}
  {"type": "inline_checkpoint", "key", "result", "started_at", "duration_ms"}
  {"type": "sleep", "key", "seconds"}
  {"type": "approval", "key", "timeout", "form", "self_approval_disabled", "skin"?, "description"?}
each with "keys": every step key allocated in the round, in order. An exception escaping the
body (or the executed task, in a child round) is a job failure as above.
"""
import json
import os
import sys


def _fix_sys_path(root):
    # Running this file puts its own folder first on sys.path; the job must not see it.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if root:
        # `from f.folder.other import x`, as Windmill resolves relative scripts.
        sys.path.insert(0, root)


def _default(o):
    import base64
    import datetime
    import decimal

    if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(bytes(o)).decode("ascii")
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "model_dump"):
        return o.model_dump()
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(o)
    if hasattr(o, "__dict__"):
        return o.__dict__
    return str(o)


def _convert(value, annotation):
    """The conversions Windmill applies from JSON to annotated Python types."""
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None)
    if value is None or name is None:
        return value
    if name == "bytes" and isinstance(value, str):
        import base64

        return base64.b64decode(value)
    if name in ("datetime", "datetime.datetime") and isinstance(value, str):
        import datetime

        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if name in ("date", "datetime.date") and isinstance(value, str):
        import datetime

        return datetime.date.fromisoformat(value[:10])
    return value


def _call(main, args):
    return _finish(main(**_kwargs(main, args)))


def _kwargs(main, args):
    """The job's arguments that main accepts, by name, converted to its annotated types."""
    code = getattr(main, "__code__", None)
    if code is None:  # a callable object or a builtin: pass everything by name
        return dict(args)
    flags = code.co_flags
    accepts_kwargs = bool(flags & 0x08)
    positional = code.co_varnames[: code.co_argcount]
    kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    names = set(positional) | set(kwonly)
    annotations = getattr(main, "__annotations__", {}) or {}
    kwargs = {}
    for k, v in args.items():
        if k in names or accepts_kwargs:
            kwargs[k] = _convert(v, annotations.get(k))
    return kwargs


def _finish(result):
    if hasattr(result, "__await__"):
        import asyncio

        async def _await(r):
            return await r

        result = asyncio.run(_await(result))
    return result


def _error_json(e, tb):
    import traceback

    # Frames of this wrapper (and of the workflow harness, and asyncio's) are noise in the user's traceback.
    noise = (__file__, getattr(sys.modules.get("wmill._wac"), "__file__", None))
    asyncio_dir = os.path.dirname(getattr(sys.modules.get("asyncio"), "__file__", None) or "/nonexistent/x")
    while tb is not None and (tb.tb_frame.f_code.co_filename in noise or tb.tb_frame.f_code.co_filename.startswith(asyncio_dir + os.sep)):
        tb = tb.tb_next
    stack = "".join(traceback.format_exception(type(e), e, tb))
    return json.dumps({"error": {"name": type(e).__name__, "message": str(e), "stack": stack}}, default=_default)


_modules = {}
_generation = [0]


def _forget_workspace_modules(root):
    """wmill dev: a new generation imports the script and the workspace modules it imports afresh;
    installed packages (site-packages) and wmill itself stay loaded."""
    _modules.clear()
    if not root:
        return
    prefix = os.path.abspath(root) + os.sep
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if f and f.startswith(prefix) and "site-packages" not in f and "dist-packages" not in f:
            del sys.modules[name]
    import importlib

    importlib.invalidate_caches()


def _load(script, reload=None, root=None):
    """The job's module, imported once per process (a resident process serves many rounds)."""
    if reload and reload != _generation[0]:
        _generation[0] = reload
        _forget_workspace_modules(root)
    module = _modules.get(script)
    if module is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("__wmill_main__", script)
        module = importlib.util.module_from_spec(spec)
        sys.modules["__wmill_main__"] = module
        spec.loader.exec_module(module)
        _modules[script] = module
    return module


def _run_job(data):
    """Run one job (or one workflow round): (exit status, result JSON)."""
    for k, v in (data.get("env") or {}).items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    wmill = sys.modules.get("wmill")
    if wmill is not None:  # the client reads its token and job from the environment when made
        wmill._client = None
    status = 0
    try:
        module = _load(data.get("script"), data.get("reload"), data.get("root"))
        wac = data.get("wac")
        checkpoint = wac.get("checkpoint") if isinstance(wac, dict) else None
        if checkpoint is not None:
            from wmill import _wac

            main = _wac.find_workflow(module)
            if not callable(main):
                raise AttributeError("main function is missing: the script must define a function named main")
            kind, value = _wac.run_round(main, _kwargs(main, data.get("args") or {}), checkpoint)
            if kind == "ok":
                out = json.dumps({"__wac": value}, default=_default, separators=(",", ":"), allow_nan=False)
            else:
                status = 1
                out = _error_json(*value)
        else:
            main = getattr(module, "main", None)
            if not callable(main):
                raise AttributeError("main function is missing: the script must define a function named main")
            result = _call(main, data.get("args") or {})
            out = json.dumps(result, default=_default, separators=(",", ":"), allow_nan=False)
    except BaseException as e:  # noqa: B036 - SystemExit/KeyboardInterrupt are failures too
        status = 1
        if isinstance(e, SystemExit) and (e.code is None or e.code == 0):
            status = 0
            out = "null"
        else:
            out = _error_json(e, e.__traceback__)
    sys.stdout.flush()
    sys.stderr.flush()
    return status, out


def _run():
    result_path = sys.argv[1]
    data = json.loads(sys.stdin.buffer.read().decode("utf-8").strip() or "{}")
    if not data.get("script"):  # no job came (the runner went away while this interpreter was prewarmed)
        sys.exit(3)
    _fix_sys_path(data.get("root"))
    status, out = _run_job(data)
    with open(result_path, "w", encoding="utf-8") as f:
        f.write(out)
    sys.exit(status)


def _resident(nonce):
    """Resident mode (src/runner/executors/resident.ts): one job per stdin line, each answered on
    stdout by "\\x1e<nonce> R <status> <json>\\n" after the job's own output and by "\\x1e<nonce>\\n"
    on stderr; the process lives until stdin closes. A workflow step() checkpoint goes on the same
    pipes instead of over HTTP: "\\x1e<nonce> S <n> <body>\\n" on stdout, answered by the stdin
    line {"__reply": n, "status": ..., "body": ...}."""
    seq = [0]

    def transport(payload):
        seq[0] += 1
        n = seq[0]
        sys.stdout.write(f"\x1e{nonce} S {n} {json.dumps(payload, separators=(',', ':'), default=_default)}\n")
        sys.stdout.flush()
        while True:
            raw = sys.stdin.buffer.readline()
            if not raw:
                raise RuntimeError("the runner went away")
            if raw.startswith(b'{"__reply":'):
                msg = json.loads(raw)
                if msg.get("__reply") == n:
                    return msg.get("status", 200), msg.get("body")

    from wmill import _wac

    _wac._checkpoint_transport = transport

    # The runner died (SIGKILL): stop, as its job processes do, rather than finish work nobody awaits.
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch_parent():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                try:
                    os.killpg(os.getpid(), signal.SIGKILL)
                finally:
                    os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()
    fixed = False
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8").strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            status, out = 1, json.dumps({"error": {"name": "Error", "message": "bad job input"}})
        else:
            if not fixed:
                _fix_sys_path(data.get("root"))
                fixed = True
            status, out = _run_job(data)
        sys.stdout.write(f"\x1e{nonce} R {status} {out}\n")
        sys.stdout.flush()
        sys.stderr.write(f"\x1e{nonce}\n")
        sys.stderr.flush()


if __name__ == "__main__":
    _nonce = os.environ.pop("WMILL_RESIDENT", None)
    if _nonce:
        _resident(_nonce)
    else:
        _run()
