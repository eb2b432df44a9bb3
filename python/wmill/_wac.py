"""Workflow-as-code v2 for Python jobs: `@workflow`, `@task`, `task_script`, `task_flow`, `step`,
`sleep`, `wait_for_approval`, `get_approval_urls`, `parallel`, `TaskError`.

Same semantics as the npm windmill-client's `WorkflowCtx` (spec/windmill-server.md §6): each
round runs the workflow body from the top with a ctx built from the saved checkpoint; every SDK
call allocates a deterministic step key; a completed key replays its recorded value, anything
else raises the internal `_StepSuspend` (a BaseException, so `except Exception` in user code
never swallows it), which the harness (`run_round`, called by _runner.py) turns into one output.

Task calls return awaitables that register their step when *called*; the suspend is raised when
the first of them is awaited, one loop tick later (as a JS `then` runs as a microtask), so
`asyncio.gather(t(1), t(2))` and `parallel(...)` dispatch every task of the batch in one round.

Outside a workflow: a task runs its function directly, `step` runs its function, `sleep` is
`asyncio.sleep`; `task_script`, `task_flow` and `wait_for_approval` raise.
Only the standard library is used, and nothing heavy is imported until a call is made.
"""
from __future__ import annotations

import json as _json
import os as _os
import time as _time

__all__ = [
    "TaskError",
    "WorkflowCtx",
    "workflow",
    "task",
    "task_script",
    "task_flow",
    "step",
    "sleep",
    "wait_for_approval",
    "get_approval_urls",
    "parallel",
]

_MAX_SLEEP_SECONDS = 4294967295  # the worker reads seconds as a u32
_MAX_RETRY_ATTEMPTS = 100
_FAST_PATH_TIMEOUT_S = 10
# Error fields reported by name, never repeated under `extra` (same list as the JS SDK).
_SERIALIZED_ERROR_FIELDS = ("line", "name", "stack", "column", "message", "sourceURL", "originalLine", "originalColumn")
_TASK_OPTION_FIELDS = (
    ("timeout", "timeout"),
    ("tag", "tag"),
    ("cache_ttl", "cache_ttl"),
    ("priority", "priority"),
    ("concurrency_limit", "concurrent_limit"),
    ("concurrency_key", "concurrency_key"),
    ("concurrency_time_window_s", "concurrency_time_window_s"),
)

_ctx = None  # the WorkflowCtx of the round being run, set by the harness


def _set_workflow_ctx(ctx):
    global _ctx
    _ctx = ctx


# -- errors --------------------------------------------------------------------------------------
class _StepSuspend(BaseException):
    """Internal: ends the round. BaseException, so `except Exception` does not swallow it."""

    def __init__(self, dispatch_info):
        super().__init__("__step_suspend__")
        self.dispatch_info = dispatch_info


class TaskError(Exception):
    """A task or step failed; raised where its result is awaited, identically on every replay."""

    __module__ = "wmill"

    def __init__(self, message="", result=None, step_key=None, child_job_id=None):
        super().__init__(message)
        self.message = message
        self.result = result
        self.step_key = step_key
        self.child_job_id = child_job_id


def _is_failure(value):
    return isinstance(value, dict) and bool(value.get("__wmill_error"))


def _task_error_from_marker(marker, fallback_message):
    m = marker if isinstance(marker, dict) else {}
    return TaskError(m.get("message") or fallback_message, m.get("result"), m.get("step_key"), m.get("child_job_id"))


def _trimmed_tb(tb):
    """A traceback without its leading frames from this file (noise in the user's stack)."""
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb


def _error_record(e, tb=None):
    import traceback

    tb = _trimmed_tb(e.__traceback__ if tb is None else tb)
    err = {"name": type(e).__name__, "message": str(e), "stack": "".join(traceback.format_exception(type(e), e, tb))}
    extra = {}
    for k, v in (getattr(e, "__dict__", None) or {}).items():
        if k.startswith("_") or k in _SERIALIZED_ERROR_FIELDS:
            continue
        try:
            extra[k] = _round_trip(v)
        except Exception:
            pass
    if extra:
        err["extra"] = extra
    return err


def _step_error_marker(key, e):
    """The `__wmill_error` record of a failed step (the server normalizes it)."""
    err = _error_record(e)
    return {"__wmill_error": True, "message": err["message"], "step_key": key, "result": {"error": err}}


# -- JSON ----------------------------------------------------------------------------------------
def _json_default(o):
    # The job runner's result encoding (_runner.py), so a step value and a job result convert alike.
    from ._runner import _default

    return _default(o)


def _dumps(value):
    return _json.dumps(value, default=_json_default, separators=(",", ":"), allow_nan=False)


def _round_trip(value):
    return _json.loads(_dumps(value))


def _checkpointable(value):
    """A function result has no JSON form: recorded as null, as the JS SDK does."""
    return None if type(value).__name__ in ("function", "method", "builtin_function_or_method") else value


def _is_awaitable(v):
    return hasattr(type(v), "__await__")


def _iso_now():
    t = _time.time()
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def _log(line):
    print(line, flush=True)


# -- awaitables handed to the workflow body ------------------------------------------------------
class _Resolved:
    """A recorded value (replay)."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def __await__(self):
        return self._value
        yield  # noqa: makes this a generator


class _Raise:
    """Raises `exc` when awaited (a recorded failure, or a suspend already raised at call time)."""

    __slots__ = ("_exc", "_on_await")

    def __init__(self, exc, on_await=None):
        self._exc = exc
        self._on_await = on_await

    def __await__(self):
        if self._on_await is not None:
            self._on_await()
        raise self._exc
        yield  # noqa: makes this a generator


class _Never:
    """Never resolves: an uncompleted SDK call in a child round, or a task awaited after the suspend."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx):
        self._ctx = ctx

    def __await__(self):
        import asyncio

        fut = asyncio.get_running_loop().create_future()
        self._ctx._parked.add(fut)
        return (yield from fut.__await__())


class _PendingStep:
    """A task registered for dispatch; the first one awaited raises the suspend with all pending."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx):
        self._ctx = ctx

    def __await__(self):
        ctx = self._ctx
        if not ctx._suspended:
            # One tick, like a JS microtask: the coroutines started in the same tick (gather,
            # parallel) register their tasks before the batch is cut.
            yield
        if ctx._suspended:
            return (yield from _Never(ctx).__await__())
        ctx._suspended = True
        steps = ctx._flush_pending()
        _log(f"\n--- WAC: {', '.join(str(s['name']) for s in steps)} ---")
        ctx._raise_suspend({"mode": "parallel" if len(steps) > 1 else "sequential", "steps": steps})


_EXECUTE = object()  # _next_step: this child round executes the task itself


# -- retry policy --------------------------------------------------------------------------------
def _check_retry(retry):
    if retry is None:
        return
    if not isinstance(retry, dict):
        raise ValueError("retry must be a dict like {'attempts': 3, 'delay': 10, 'multiplier': 2, 'max_delay': 300}")
    attempts = retry.get("attempts")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0 or attempts > _MAX_RETRY_ATTEMPTS:
        raise ValueError(f"retry.attempts must be a whole number between 0 and {_MAX_RETRY_ATTEMPTS}, got {attempts}")


def _retry_attempts(retry):
    try:
        n = int((retry or {}).get("attempts") or 0)
    except (TypeError, ValueError):
        n = 0
    return min(max(n, 0), _MAX_RETRY_ATTEMPTS)


def _retry_delay_seconds(retry, attempt):
    import math

    base = retry.get("delay") or 0
    if not base > 0:
        return 0
    grown = base * math.pow(retry.get("multiplier") if retry.get("multiplier") is not None else 1, attempt)
    max_delay = retry.get("max_delay")
    seconds = math.floor(min(grown if max_delay is None else max_delay, grown, _MAX_SLEEP_SECONDS))
    return int(seconds) if seconds > 0 else 0


def _check_step_key(key, what):
    k = key.strip() if isinstance(key, str) else ""
    if not isinstance(key, str) or k in ("", ".", "..") or "/" in key or "\\" in key:
        raise ValueError(f"{what} must be a non-empty step name without `/` or dot segments")


# -- the context ---------------------------------------------------------------------------------
class WorkflowCtx:
    def __init__(self, checkpoint=None):
        checkpoint = checkpoint or {}
        self.completed = dict(checkpoint.get("completed_steps") or {})
        self._executing_key = checkpoint.get("_executing_key")
        self.counters = {}
        self._used_keys = set()
        self.keys = []  # every key allocated this round, in order
        self.pending = []
        self._suspended = False
        self._pending_suspend = None
        self._pending_step_failure = None  # (exception, traceback) of the task this child round executes
        self._unobserved = {}
        self._executing_started = False
        self._spawned = []
        self._parked = set()
        self._round_over = None  # asyncio future set by the harness; done once a suspend/failure is raised
        self._inline_lock_obj = None

    # keys
    def _alloc_key(self, name):
        n = self.counters.get(name, 0) + 1
        key = name if n == 1 else f"{name}_{n}"
        while key in self._used_keys:
            n += 1
            key = f"{name}_{n}"
        self.counters[name] = n
        self._used_keys.add(key)
        self.keys.append(key)
        return key

    # suspends
    def _signal_round_over(self):
        f = self._round_over
        if f is not None and not f.done():
            f.set_result(None)

    def _make_suspend(self, info):
        s = _StepSuspend(info)
        self._pending_suspend = s
        self._signal_round_over()
        return s

    def _raise_suspend(self, info):
        raise self._make_suspend(info)

    def _rethrow_swallowed(self):
        if self._pending_step_failure is not None:
            raise self._pending_step_failure[0]
        if self._pending_suspend is not None:
            raise self._pending_suspend

    def _flush_pending(self):
        steps, self.pending = self.pending, []
        return steps

    def _take_pending_suspend(self):
        s, self._pending_suspend = self._pending_suspend, None
        return s

    def _take_pending_step_failure(self):
        f, self._pending_step_failure = self._pending_step_failure, None
        return f

    def _warn_unobserved_task_failures(self):
        if self._executing_key is not None:
            return
        for key, err in self._unobserved.items():
            _log(f"\n--- WAC: task '{key}' failed but was never awaited, so the workflow result does not reflect it: {err} ---")
        self._unobserved.clear()

    # tasks
    def _next_step(self, name, script, args, dispatch_type="inline", options=None):
        self._rethrow_swallowed()
        options = options or {}
        retry = options.get("retry")
        max_retries = _retry_attempts(retry)
        base_key = self._alloc_key(name or script or "step")
        attempt_keys = [base_key]
        backoff_keys = []
        for i in range(max_retries):
            backoff_keys.append(self._alloc_key(f"{base_key}#retry{i + 2}"))
            attempt_keys.append(self._alloc_key(f"{base_key}#{i + 2}"))
        attempt = 0
        while True:
            key = attempt_keys[attempt]
            if key in self.completed:
                value = self.completed[key]
                if _is_failure(value):
                    if attempt < max_retries:
                        self._retry_backoff(backoff_keys[attempt], base_key, retry, attempt)
                        attempt += 1
                        continue
                    err = _task_error_from_marker(value, f"Task '{name}' failed")
                    self._unobserved[base_key] = err
                    return _Raise(err, lambda: self._unobserved.pop(base_key, None))
                return _Resolved(value)
            if self._executing_key == key:
                return _EXECUTE
            if self._executing_key is not None:
                return _Never(self)
            info = {"name": name or key, "script": script or key, "args": args, "key": key, "dispatch_type": dispatch_type}
            for opt, field in _TASK_OPTION_FIELDS:
                if options.get(opt) is not None:
                    info[field] = options[opt]
            self.pending.append(info)
            return _PendingStep(self)

    def _retry_backoff(self, key, base_key, retry, attempt):
        seconds = _retry_delay_seconds(retry, attempt)
        if seconds < 1 or key in self.completed or self._executing_key is not None:
            return
        _log(f"\n--- WAC: sleep({key}, {seconds}s) before retrying {base_key} ---")
        self._raise_suspend({"mode": "sleep", "key": key, "seconds": seconds, "steps": []})

    def _execute_task(self, fn, args, kwargs):
        """Child round: run the task whose key is `_executing_key`; its result ends the round."""
        import asyncio

        self._executing_started = True

        async def run():
            try:
                result = fn(*args, **kwargs)
                if _is_awaitable(result):
                    result = await result
            except _StepSuspend:
                raise
            except Exception as e:
                self._pending_step_failure = (e, e.__traceback__)
                self._signal_round_over()
                raise
            self._raise_suspend({"mode": "step_complete", "steps": [], "result": _checkpointable(result)})

        # Started now, like the JS SDK's async IIFE: it runs even if the body never awaits it.
        t = asyncio.ensure_future(run())
        self._spawned.append(t)
        return t

    # sleep, approvals
    def _sleep(self, seconds):
        self._rethrow_swallowed()
        key = self._alloc_key("sleep")
        if key in self.completed:
            return _Resolved(None)
        if self._executing_key is not None:
            return _Never(self)
        _log(f"\n--- WAC: sleep({key}, {seconds}s) ---")
        secs = min(max(1, int(float(seconds) + 0.5)), _MAX_SLEEP_SECONDS)  # JS Math.round
        return _Raise(self._make_suspend({"mode": "sleep", "key": key, "seconds": secs, "steps": []}))

    def _wait_for_approval(self, key=None, timeout=None, form=None, self_approval=True, skin=None, description=None):
        self._rethrow_swallowed()
        if key is not None:
            _check_step_key(key, "wait_for_approval key")
        k = self._alloc_key(key or "approval")
        if key and k != key:
            raise ValueError(
                f'WAC step key "{key}" is already used in this workflow. Give each wait_for_approval() its own key '
                "so get_approval_urls() can address it."
            )
        if k in self.completed:
            return _Resolved(self.completed[k])
        if self._executing_key is not None:
            return _Never(self)
        _log(f"\n--- WAC: approval({k}) ---")
        info = {
            "mode": "approval",
            "key": k,
            "timeout": 1800 if timeout is None else timeout,
            "form": form,
            "self_approval_disabled": not (True if self_approval is None else self_approval),
            "steps": [],
        }
        if skin is not None:
            info["skin"] = skin
        if description is not None:
            info["description"] = description
        return _Raise(self._make_suspend(info))

    # step()
    def _run_inline_step(self, name, fn):
        self._rethrow_swallowed()
        key = self._alloc_key(name or "step")
        if key in self.completed:
            value = self.completed[key]
            if _is_failure(value):
                return _Raise(_task_error_from_marker(value, f"Step '{name}' failed"))
            return _Resolved(value)
        if self._executing_key is not None:
            return _Never(self)
        return self._execute_step(key, name, fn)

    def _inline_lock(self):
        import asyncio

        if self._inline_lock_obj is None:
            self._inline_lock_obj = asyncio.Lock()
        return self._inline_lock_obj

    async def _execute_step(self, key, name, fn):
        _log(f"\n--- WAC: {key} ---")
        started_at = _iso_now()
        _log("WM_WAC_STEP: " + _dumps({"key": key, "started_at": started_at}))
        t0 = _time.monotonic()
        errored = False
        try:
            result = fn()
            if _is_awaitable(result):
                result = await result
        except _StepSuspend:
            raise
        except Exception as e:
            errored = True
            result = _step_error_marker(key, e)
            _log(f"--- WAC: {key} failed ---")
            _log(result["result"]["error"].get("stack") or result["message"] or "step failed")
        duration_ms = int((_time.monotonic() - t0) * 1000)
        result = _checkpointable(result)

        payload = None
        checkpointed = result
        if _fast_path_enabled():
            try:
                payload = {"key": key, "result": result, "started_at": started_at, "duration_ms": duration_ms}
                payload = _round_trip(payload)
                checkpointed = payload["result"]
            except Exception as e:
                payload = None
                _log(f"WAC v2 inline fast path could not serialize key {key}, falling back to suspend: {e}")
        if payload is not None:
            import asyncio

            ok = False
            stored_failure = None
            try:
                async with self._inline_lock():
                    if _checkpoint_transport is not None:  # a pipe round trip: no thread needed
                        stored_failure = _post_inline_checkpoint(payload, errored)
                    else:
                        loop = asyncio.get_running_loop()
                        stored_failure = await loop.run_in_executor(None, _post_inline_checkpoint, payload, errored)
                ok = True
            except Exception as e:
                _log(f"WAC v2 inline fast path failed for key {key}, falling back to suspend: {e}")
            if ok:
                if errored:
                    raise _task_error_from_marker(stored_failure if stored_failure is not None else checkpointed, f"Step '{name}' failed")
                return checkpointed
        self._raise_suspend(
            {"mode": "inline_checkpoint", "steps": [], "key": key, "result": checkpointed, "started_at": started_at, "duration_ms": duration_ms}
        )


def _fast_path_enabled():
    flag = (_os.environ.get("WM_WAC_INLINE_FAST_PATH") or "1").strip().lower()
    if flag in ("0", "false", "off", "no"):
        return False
    env = _os.environ
    return bool(env.get("WM_JOB_ID") and env.get("WM_WORKSPACE") and env.get("WM_TOKEN") and (env.get("BASE_INTERNAL_URL") or env.get("BASE_URL")))


# Set by the resident runner (_runner.py): sends a checkpoint on the job's pipes and returns
# (status, body) instead of a POST over HTTP.
_checkpoint_transport = None


def _post_inline_checkpoint(payload, errored):
    """POST one step() result; returns the server's normalized failure record for a failed step."""
    if _checkpoint_transport is not None:
        status, body = _checkpoint_transport(payload)
        if status != 200:
            raise RuntimeError(f"inline_checkpoint {status}: {body}")
        return body.get("failure") if errored and isinstance(body, dict) else None
    from . import _c

    c = _c()
    r = c.post(f"/w/{c.workspace}/jobs/wac/inline_checkpoint/{_os.environ['WM_JOB_ID']}", json=payload, timeout=_FAST_PATH_TIMEOUT_S)
    if not errored or "json" not in (r.headers.get("content-type") or ""):
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("failure") if isinstance(body, dict) else None


# -- public API ----------------------------------------------------------------------------------
def workflow(fn):
    """Mark an async function (the script's `main`) as a workflow-as-code entry point. The body
    must be deterministic: it is re-run from the top every round, with completed steps replayed."""
    fn._is_workflow = True
    return fn


def _named_args(fn, args, kwargs):
    code = getattr(fn, "__code__", None)
    names = code.co_varnames[: code.co_argcount] if code is not None else ()
    out = {}
    for i, a in enumerate(args):
        out[names[i] if i < len(names) else f"arg{i}"] = a
    out.update(kwargs)
    return out


async def _run_direct(fn, args, kwargs):
    result = fn(*args, **kwargs)
    if _is_awaitable(result):
        result = await result
    return _round_trip(_checkpointable(result))


def _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry):
    _check_retry(retry)
    opts = {
        "timeout": timeout,
        "tag": tag,
        "cache_ttl": cache_ttl,
        "priority": priority,
        "concurrency_limit": concurrency_limit,
        "concurrency_key": concurrency_key,
        "concurrency_time_window_s": concurrency_time_window_s,
        "retry": retry,
    }
    return {k: v for k, v in opts.items() if v is not None}


def _mark(wrapper, name, path, fn=None):
    wrapper.__name__ = name
    wrapper.__qualname__ = name
    if fn is not None:
        wrapper.__doc__ = fn.__doc__
        wrapper.__module__ = getattr(fn, "__module__", wrapper.__module__)
        wrapper.__wrapped__ = fn
    wrapper._is_task = True
    wrapper._task_path = path
    return wrapper


def task(
    fn=None,
    /,
    *,
    path=None,
    timeout=None,
    tag=None,
    cache_ttl=None,
    priority=None,
    concurrency_limit=None,
    concurrency_key=None,
    concurrency_time_window_s=None,
    retry=None,
):
    """`@task` or `@task(timeout=600, tag="gpu", retry={"attempts": 3, "delay": 10})` on an async
    function. In a workflow, a call dispatches the function as a child job (step key = function
    name); outside one, the function runs directly. Options do not apply outside a workflow."""
    if isinstance(fn, str):  # task("f/path")(fn), as the JS task("f/path", fn)
        path, fn = fn, None
    options = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)

    def decorate(f):
        task_name = getattr(f, "__name__", None) or path or ""

        def wrapper(*args, **kwargs):
            ctx = _ctx
            if ctx is None:
                return _run_direct(f, args, kwargs)
            r = ctx._next_step(task_name, path or task_name, _named_args(f, args, kwargs), "inline", options)
            if r is _EXECUTE:
                return ctx._execute_task(f, args, kwargs)
            return r

        return _mark(wrapper, task_name, path, f)

    return decorate(fn) if fn is not None else decorate


def _remote_task(kind, path, options):
    name = path.split("/")[-1] or path

    def wrapper(*args, **kwargs):
        ctx = _ctx
        if ctx is None:
            raise RuntimeError(f'task_{kind}("{path}") can only be called inside a workflow')
        if len(args) == 1 and isinstance(args[0], dict) and not kwargs:
            call_args = args[0]
        else:
            call_args = {f"arg{i}": a for i, a in enumerate(args)}
            call_args.update(kwargs)
        return ctx._next_step(name, path, call_args, kind, options)

    return _mark(wrapper, name, path)


def task_script(
    path,
    *,
    timeout=None,
    tag=None,
    cache_ttl=None,
    priority=None,
    concurrency_limit=None,
    concurrency_key=None,
    concurrency_time_window_s=None,
    retry=None,
):
    """A task that runs the deployed script at `path`: `extract = task_script("f/data/extract")`,
    then `await extract({"url": ...})` or `await extract(url=...)` inside a workflow."""
    opts = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)
    return _remote_task("script", path, opts)


def task_flow(
    path,
    *,
    timeout=None,
    tag=None,
    cache_ttl=None,
    priority=None,
    concurrency_limit=None,
    concurrency_key=None,
    concurrency_time_window_s=None,
    retry=None,
):
    """A task that runs the flow at `path` (see task_script)."""
    opts = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)
    return _remote_task("flow", path, opts)


async def _run_plain_step(fn):
    result = fn()
    if _is_awaitable(result):
        result = await result
    return _round_trip(_checkpointable(result))


def step(name, fn):
    """`await step("name", fn)`: run `fn` (sync or async) inline once and record its result; on
    replay the recorded value is returned without running `fn`. The value is JSON round-tripped.
    A failure is recorded too and raised as TaskError, on this round and every replay."""
    ctx = _ctx
    if ctx is None:
        return _run_plain_step(fn)
    return ctx._run_inline_step(name, fn)


def sleep(seconds):
    """`await sleep(seconds)`: a durable sleep in a workflow (whole seconds, at least 1; holds no
    worker); `asyncio.sleep` outside one."""
    ctx = _ctx
    if ctx is None:
        import asyncio

        return asyncio.sleep(seconds)
    return ctx._sleep(seconds)


def wait_for_approval(key=None, timeout=1800, form=None, self_approval=True, skin=None, description=None):
    """`await wait_for_approval(key="manager", timeout=3600)` → {"value", "approver", "approved"}.
    Suspends the workflow until the step is approved or cancelled (or the timeout passes)."""
    ctx = _ctx
    if ctx is None:
        raise RuntimeError("wait_for_approval can only be called inside a workflow")
    return ctx._wait_for_approval(key, timeout, form, self_approval, skin, description)


async def get_approval_urls(key="approval", approver=None):
    """{"approvalPage", "resume", "cancel"} bound to the wait_for_approval step `key`, stable
    across replays: mint them in a step() to send them ahead of time."""
    import asyncio

    _check_step_key(key, "get_approval_urls key")
    from . import _c

    def fetch():
        import urllib.parse

        c = _c()
        job = _os.environ.get("WM_JOB_ID") or "NO_JOB_ID"
        params = {"approver": approver} if approver is not None else None
        return c.get(f"/w/{c.workspace}/jobs/wac_approval_urls/{job}/{urllib.parse.quote(key, safe='')}", params=params).json()

    return await asyncio.get_running_loop().run_in_executor(None, fetch)


async def parallel(items, fn, concurrency=None):
    """`await parallel(items, task_fn, concurrency=5)`: fn(item) for every item, in batches of
    `concurrency` (default: all at once); each batch is dispatched in one round."""
    import asyncio

    items = list(items)
    size = len(items) if concurrency is None else int(concurrency)
    if size <= 0 or not items:
        return []
    results = []
    for i in range(0, len(items), size):
        batch = [fn(item) for item in items[i : i + size]]
        results.extend(await asyncio.gather(*[b if _is_awaitable(b) else _Resolved(b) for b in batch]))
    return results


# -- the harness (called by _runner.py) ----------------------------------------------------------
def find_workflow(module):
    """The entry point of a workflow script: `main` if marked @workflow, else the (first) function
    marked @workflow, else `main`."""
    main = getattr(module, "main", None)
    if callable(main) and getattr(main, "_is_workflow", False):
        return main
    for v in vars(module).values():
        if callable(v) and getattr(v, "_is_workflow", False) and getattr(v, "__module__", None) == module.__name__:
            return v
    return main


def _output_of(info):
    mode = info.get("mode")
    if mode == "step_complete":
        return {"type": "complete", "result": info.get("result")}
    if mode in ("sequential", "parallel"):
        return {"type": "dispatch", "mode": mode, "steps": info.get("steps") or []}
    if mode == "inline_checkpoint":
        out = {"type": "inline_checkpoint"}
        for k in ("key", "result", "started_at", "duration_ms"):
            out[k] = info.get(k)
        return out
    if mode == "sleep":
        return {"type": "sleep", "key": info.get("key"), "seconds": info.get("seconds")}
    if mode == "approval":
        out = {"type": "approval"}
        for k in ("key", "timeout", "form", "self_approval_disabled", "skin", "description"):
            if k in info:
                out[k] = info[k]
        return out
    raise RuntimeError(f"workflow-as-code: unknown suspend mode {mode!r}")


def _stuck(ctx, fut, depth=0):
    """Whether a future can never complete: a parked SDK call, or a gather of only such."""
    if fut is None or fut.done() or depth > 100:
        return False
    if fut in ctx._parked:
        return True
    if _is_task(fut):  # awaiting a task: stuck if that task is
        return _stuck(ctx, getattr(fut, "_fut_waiter", None), depth + 1)
    children = getattr(fut, "_children", None)  # asyncio.gather
    if isinstance(children, list):
        pending = [c for c in children if not c.done()]
        return bool(pending) and all(_stuck(ctx, c, depth + 1) for c in pending)
    return False


def _is_task(f):
    import asyncio

    return isinstance(f, asyncio.Task)


def _stalled(ctx, me):
    """Child round: every task is waiting on a step this round can never run."""
    import asyncio

    others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    return all(_stuck(ctx, t) for t in others)


async def _round(fn, kwargs, ctx):
    import asyncio

    me = asyncio.current_task()
    ctx._round_over = asyncio.get_running_loop().create_future()

    async def body():
        r = fn(**kwargs)
        if _is_awaitable(r):
            r = await r
        return r

    task_ = asyncio.ensure_future(body())
    child = ctx._executing_key is not None
    poll = 0.05
    try:
        while True:
            waiting = {ctx._round_over} if task_.done() else {task_, ctx._round_over}
            await asyncio.wait(waiting, timeout=poll if child else None, return_when=asyncio.FIRST_COMPLETED)
            if ctx._pending_step_failure is not None:
                e, tb = ctx._take_pending_step_failure()
                return "error", (e, tb)
            if ctx._pending_suspend is not None:
                return "ok", _output_of(ctx._take_pending_suspend().dispatch_info)
            if task_.done():
                if task_.cancelled():
                    return "error", (RuntimeError("the workflow body was cancelled"), None)
                exc = task_.exception()
                if exc is not None:
                    return "error", (exc, exc.__traceback__)
                if not child:
                    steps = ctx._flush_pending()
                    if steps:  # tasks called but never awaited are still dispatched
                        _log(f"\n--- WAC: {', '.join(str(s['name']) for s in steps)} ---")
                        return "ok", {"type": "dispatch", "mode": "parallel" if len(steps) > 1 else "sequential", "steps": steps}
                    ctx._warn_unobserved_task_failures()
                    return "ok", {"type": "complete", "result": task_.result()}
                if not ctx._executing_started:
                    return "error", (RuntimeError(f"workflow-as-code: the step being executed ({ctx._executing_key}) was not reached when replaying the workflow"), None)
            if child and _stalled(ctx, me):
                msg = (
                    f"workflow-as-code: the step being executed ({ctx._executing_key}) is waiting on another step, which a task's own job cannot run"
                    if ctx._executing_started
                    else f"workflow-as-code: the step being executed ({ctx._executing_key}) was not reached when replaying the workflow"
                )
                return "error", (RuntimeError(msg), None)
            poll = min(poll * 2, 1.0)
    finally:
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        for t in others:
            t.cancel()
        if others:
            await asyncio.wait(others, timeout=1.0)
        for t in [task_, *ctx._spawned, *others]:
            if t.done() and not t.cancelled():
                t.exception()  # retrieved: no "exception was never retrieved" noise


def run_round(fn, kwargs, checkpoint):
    """Run one round of the workflow `fn`. Returns ("ok", OUTPUT) with OUTPUT carrying `keys`
    (every step key allocated this round, in order), or ("error", (exception, traceback))."""
    import asyncio

    ctx = WorkflowCtx(checkpoint)
    _set_workflow_ctx(ctx)
    try:
        kind, value = asyncio.run(_round(fn, kwargs, ctx))
    finally:
        _set_workflow_ctx(None)
    if kind == "ok":
        value["keys"] = list(ctx.keys)
    return kind, value
