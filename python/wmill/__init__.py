"""wmill: the in-job Python SDK shipped with the wmill CLI.

Same names, arguments and return shapes as the `wmill` package of Windmill's Python client for
the calls scripts make: run scripts and flows (by path or hash, waiting or not), job status,
results and cancellation, progress, the root job, resume URLs, flow user states, resources,
variables, state, the workspace and the user. It talks to the job's API (`BASE_INTERNAL_URL` +
`/api`, `WM_TOKEN`, `WM_WORKSPACE`). Only the standard library is used (urllib), and nothing
heavy is imported until a call is made, so `import wmill` is free. Left out: S3 helpers, OIDC
id tokens, Slack/Teams approvals, data tables (nothing here serves them).
Workflow-as-code v2 (`@workflow`, `@task`, `step`, `sleep`, `wait_for_approval`, ...) is in
_wac.py, re-exported here.

wmill's runner puts this folder first on PYTHONPATH of every Python job.
"""
from __future__ import annotations

import json as _json
import os as _os
# Annotations are never evaluated (PEP 563), so typing is not imported.

__all__ = [
    "Windmill",
    "WindmillHTTPError",
    "JobStatus",
    "get_workspace",
    "get_version",
    "whoami",
    "username_to_email",
    "get",
    "post",
    "get_resource",
    "set_resource",
    "list_resources",
    "get_variable",
    "set_variable",
    "get_state",
    "set_state",
    "get_state_path",
    "run_script",
    "run_script_async",
    "run_script_sync",
    "run_script_by_path",
    "run_script_by_hash",
    "run_script_by_path_async",
    "run_script_by_hash_async",
    "run_script_by_path_sync",
    "run_flow_async",
    "run_inline_script_preview",
    "cancel_job",
    "cancel_running",
    "get_result",
    "get_job_status",
    "get_root_job_id",
    "get_resume_urls",
    "set_progress",
    "get_progress",
    "set_flow_user_state",
    "get_flow_user_state",
    "parse_resource_syntax",
    "parse_variable_syntax",
    # workflow-as-code v2 (_wac.py)
    "workflow",
    "task",
    "task_script",
    "task_flow",
    "step",
    "sleep",
    "wait_for_approval",
    "get_approval_urls",
    "parallel",
    "TaskError",
]


# What get_job_status returns (a typing.Literal in Windmill's client).
JobStatus = str
_RUNNING, _WAITING, _COMPLETED = "RUNNING", "WAITING", "COMPLETED"


def parse_resource_syntax(s: str) -> Optional[str]:
    """The path of a `$res:<path>` or `res://<path>` reference, else None."""
    if isinstance(s, str):
        for prefix in ("$res:", "res://"):
            if s.startswith(prefix):
                return s[len(prefix):]
    return None


def parse_variable_syntax(s: str) -> Optional[str]:
    """The path of a `$var:<path>` or `var://<path>` reference, else None."""
    if isinstance(s, str):
        for prefix in ("$var:", "var://"):
            if s.startswith(prefix):
                return s[len(prefix):]
    return None


class WindmillHTTPError(Exception):
    def __init__(self, url: str, status: int, body: str):
        super().__init__(f"{url}: {status}, {body}")
        self.url = url
        self.status_code = status
        self.body = body


class _Response:
    def __init__(self, status: int, body: bytes, content_type: str):
        self.status_code = status
        self.content = body
        self.headers = {"content-type": content_type}

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return _json.loads(self.content.decode("utf-8"))


class Windmill:
    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, workspace: Optional[str] = None, verify: bool = True):
        base = base_url or _os.environ.get("BASE_INTERNAL_URL") or _os.environ.get("BASE_URL") or "http://localhost:8000"
        self.base_url = f"{base.rstrip('/')}/api"
        self.token = token or _os.environ.get("WM_TOKEN")
        self.workspace = workspace or _os.environ.get("WM_WORKSPACE")
        self.path = _os.environ.get("WM_JOB_PATH")
        self.verify = verify
        assert self.workspace, "workspace required as an argument or as WM_WORKSPACE environment variable"

    # -- transport ---------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        endpoint: str,
        json: Any = None,
        params: Optional[Dict[str, Any]] = None,
        raise_for_status: bool = True,
        timeout: Optional[float] = None,
    ) -> _Response:
        import urllib.error
        import urllib.parse
        import urllib.request

        url = f"{self.base_url}/{endpoint.lstrip('/')}"
        if params:
            q = {k: ("true" if v is True else "false" if v is False else v) for k, v in params.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        data = None
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if json is not None or method == "POST":
            data = _json.dumps(json).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with (urllib.request.urlopen(req) if timeout is None else urllib.request.urlopen(req, timeout=timeout)) as r:
                resp = _Response(r.status, r.read(), r.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            resp = _Response(e.code, e.read(), e.headers.get("Content-Type", "") if e.headers else "")
        if raise_for_status and resp.status_code >= 400:
            raise WindmillHTTPError(url, resp.status_code, resp.text)
        return resp

    def get(self, endpoint: str, raise_for_status: bool = True, **kwargs) -> _Response:
        return self._request("GET", endpoint, params=kwargs.get("params"), raise_for_status=raise_for_status, timeout=kwargs.get("timeout"))

    def post(self, endpoint: str, raise_for_status: bool = True, **kwargs) -> _Response:
        return self._request(
            "POST", endpoint, json=kwargs.get("json"), params=kwargs.get("params"), raise_for_status=raise_for_status, timeout=kwargs.get("timeout")
        )

    # -- meta --------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.get("version").text

    def whoami(self) -> dict:
        return self.get("/users/whoami").json()

    @property
    def user(self) -> dict:
        return self.whoami()

    # -- variables ---------------------------------------------------------------------------
    def get_variable(self, path: str) -> str:
        path = parse_variable_syntax(path) or path
        return self.get(f"/w/{self.workspace}/variables/get_value/{path}").json()

    def set_variable(self, path: str, value: str, is_secret: bool = False) -> None:
        path = parse_variable_syntax(path) or path
        r = self.get(f"/w/{self.workspace}/variables/get/{path}", raise_for_status=False)
        if r.status_code == 404:
            self.post(
                f"/w/{self.workspace}/variables/create",
                json={"path": path, "value": value, "is_secret": is_secret, "description": ""},
            )
        else:
            self.post(f"/w/{self.workspace}/variables/update/{path}", json={"value": value})

    # -- resources ---------------------------------------------------------------------------
    def get_resource(self, path: str, none_if_undefined: bool = False) -> Any:
        path = parse_resource_syntax(path) or path
        try:
            return self.get(f"/w/{self.workspace}/resources/get_value_interpolated/{path}").json()
        except WindmillHTTPError:
            if none_if_undefined:
                return None
            raise

    def set_resource(self, value: Any, path: str, resource_type: str) -> None:
        path = parse_resource_syntax(path) or path
        r = self.get(f"/w/{self.workspace}/resources/get/{path}", raise_for_status=False)
        if r.status_code == 404:
            self.post(
                f"/w/{self.workspace}/resources/create",
                json={"path": path, "value": value, "resource_type": resource_type},
            )
        else:
            self.post(f"/w/{self.workspace}/resources/update_value/{path}", json={"value": value})

    def list_resources(self, resource_type: str = None, page: int = None, per_page: int = None) -> list:
        """Resources of the workspace (optionally of one type), as dicts."""
        params = {"resource_type": resource_type, "page": page, "per_page": per_page}
        return self.get(f"/w/{self.workspace}/resources/list", params=params).json()

    # -- state -------------------------------------------------------------------------------
    @property
    def state_path(self) -> str:
        state_path = _os.environ.get("WM_STATE_PATH_NEW", _os.environ.get("WM_STATE_PATH"))
        if state_path is None:
            raise Exception("State path not found")
        return state_path

    @property
    def state(self) -> Any:
        return self.get_resource(path=self.state_path, none_if_undefined=True)

    @state.setter
    def state(self, value: Any) -> None:
        self.set_state(value)

    def set_state(self, value: Any) -> None:
        self.set_resource(value, path=self.state_path, resource_type="state")

    # -- jobs: starting them ------------------------------------------------------------------
    def _run_params(self, scheduled_in_secs: Optional[int], track: bool) -> dict:
        params: dict = {}
        if scheduled_in_secs:
            params["scheduled_in_secs"] = scheduled_in_secs
        if track:
            # The new job is this job's child (and part of its root flow), as Windmill tracks it.
            if _os.environ.get("WM_JOB_ID"):
                params["parent_job"] = _os.environ["WM_JOB_ID"]
            if _os.environ.get("WM_ROOT_FLOW_JOB_ID"):
                params["root_job"] = _os.environ["WM_ROOT_FLOW_JOB_ID"]
        return params

    def run_script_async(self, path: str = None, hash_: str = None, args: dict = None, scheduled_in_secs: int = None) -> str:
        """Queue a script (by path, or exact version by hash); returns the job id at once."""
        if path and hash_:
            raise ValueError("path and hash_ are mutually exclusive")
        if not path and not hash_:
            raise ValueError("path or hash_ must be provided")
        endpoint = f"/w/{self.workspace}/jobs/run/p/{path}" if path else f"/w/{self.workspace}/jobs/run/h/{hash_}"
        return self.post(endpoint, json=args or {}, params=self._run_params(scheduled_in_secs, True)).text

    def run_script_by_path_async(self, path: str, args: dict = None, scheduled_in_secs: int = None) -> str:
        return self.run_script_async(path=path, args=args, scheduled_in_secs=scheduled_in_secs)

    def run_script_by_hash_async(self, hash_: str, args: dict = None, scheduled_in_secs: int = None) -> str:
        return self.run_script_async(hash_=hash_, args=args, scheduled_in_secs=scheduled_in_secs)

    def run_flow_async(self, path: str, args: dict = None, scheduled_in_secs: int = None, do_not_track_in_parent: bool = True) -> str:
        """Queue a flow; returns the job id at once. With do_not_track_in_parent=False it is this job's child."""
        return self.post(
            f"/w/{self.workspace}/jobs/run/f/{path}", json=args or {}, params=self._run_params(scheduled_in_secs, not do_not_track_in_parent)
        ).text

    def run_script(
        self,
        path: str = None,
        hash_: str = None,
        args: dict = None,
        timeout=None,
        verbose: bool = False,
        cleanup: bool = True,
        assert_result_is_not_none: bool = False,
    ) -> Any:
        """Run a script and wait for its result (raises if it fails)."""
        job_id = self.run_script_async(path=path, hash_=hash_, args=args)
        return self.wait_job(job_id, timeout, verbose, cleanup, assert_result_is_not_none)

    def run_script_by_path(self, path: str, args: dict = None, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = False) -> Any:
        return self.run_script(path=path, args=args, timeout=timeout, verbose=verbose, cleanup=cleanup, assert_result_is_not_none=assert_result_is_not_none)

    def run_script_by_hash(self, hash_: str, args: dict = None, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = False) -> Any:
        return self.run_script(hash_=hash_, args=args, timeout=timeout, verbose=verbose, cleanup=cleanup, assert_result_is_not_none=assert_result_is_not_none)

    def run_inline_script_preview(self, content: str, language: str, args: dict = None) -> Any:
        """Run code given as text (a preview job) and return its result."""
        return self.post(f"/w/{self.workspace}/jobs/run_wait_result/preview", json={"content": content, "language": language, "args": args or {}}).json()

    def wait_job(self, job_id, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = False) -> Any:
        """Wait for a job and return its result. Raises when it failed; TimeoutError (after canceling it) past `timeout` seconds."""
        import atexit
        import datetime
        import time

        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds()
        start = time.monotonic()

        def cancel():
            try:
                self.cancel_job(job_id, "parent script cancelled")
            except Exception:
                pass

        if cleanup:
            atexit.register(cancel)
        try:
            delay = 0.05
            while True:
                r = self.get(f"/w/{self.workspace}/jobs_u/completed/get_result_maybe/{job_id}").json()
                if r.get("completed"):
                    result = r.get("result")
                    if r.get("success"):
                        if assert_result_is_not_none and result is None:
                            raise Exception(f"result is None for job_id = {job_id!r}")
                        return result
                    error = result.get("error", result) if isinstance(result, dict) else result
                    raise Exception(f"Job {job_id} was not successful: {error}")
                if timeout is not None and time.monotonic() - start > timeout:
                    self.cancel_job(job_id, "reached timeout")
                    raise TimeoutError("reached timeout")
                if verbose:
                    print(f"job {job_id} is {'running' if r.get('started') else 'waiting'}", flush=True)
                time.sleep(delay)
                delay = min(0.5, delay * 2)
        finally:
            if cleanup:
                atexit.unregister(cancel)

    # -- jobs: following them -----------------------------------------------------------------
    def cancel_job(self, job_id: str, reason: str = None) -> str:
        return self.post(f"/w/{self.workspace}/jobs_u/queue/cancel/{job_id}", json={"reason": reason or ""}).text

    def cancel_running(self) -> dict:
        """Cancel the other running jobs of this job's script; {job_id: answer}."""
        jobs = self.get(f"/w/{self.workspace}/jobs/list", params={"running": True, "script_path_exact": self.path}).json()
        me = _os.environ.get("WM_JOB_ID")
        return {j["id"]: self.cancel_job(j["id"], "killed by `cancel_running` method") for j in jobs if j["id"] != me}

    def get_resume_urls(self, approver: Optional[str] = None) -> dict:
        """{approvalPage, resume, cancel} URLs that resume/cancel this job's flow, signed for a random nonce."""
        import random

        nonce = random.randint(0, 1000000000)
        job_id = _os.environ.get("WM_JOB_ID") or "NO_JOB_ID"
        return self.get(f"/w/{self.workspace}/jobs/resume_urls/{job_id}/{nonce}", params={"approver": approver}).json()

    def get_job(self, job_id: str) -> dict:
        return self.get(f"/w/{self.workspace}/jobs_u/get/{job_id}").json()

    def get_root_job_id(self, job_id: Optional[str] = None) -> str:
        """The outermost job of this job's flow (this job when it is not a flow step)."""
        job_id = job_id or _os.environ.get("WM_JOB_ID")
        return self.get(f"/w/{self.workspace}/jobs_u/get_root_job_id/{job_id}").json()

    def get_job_status(self, job_id: str) -> JobStatus:
        """"RUNNING", "WAITING" (queued) or "COMPLETED"."""
        r = self.get(f"/w/{self.workspace}/jobs_u/get/{job_id}", raise_for_status=False, params={"no_logs": True})
        if r.status_code == 404:
            raise Exception(f"{job_id} not found")
        job = r.json()
        if str(job.get("type", "")).lower() == "completedjob":
            return _COMPLETED
        return _RUNNING if job.get("running") else _WAITING

    def get_result(self, job_id: str, assert_result_is_not_none: bool = True) -> Any:
        r = self.get(f"/w/{self.workspace}/jobs_u/completed/get_result/{job_id}")
        try:
            result = r.json()
        except ValueError:
            result = r.text
        if assert_result_is_not_none and result is None:
            raise Exception(f"result is None for job_id = {job_id!r}")
        return result

    def set_progress(self, value: int, job_id: Optional[str] = None) -> None:
        """Set a job's progress in percent (this job by default); it never goes back, and stays below 100."""
        own = _os.environ.get("WM_JOB_ID")
        job_id = job_id or own
        flow_id = _os.environ.get("WM_FLOW_JOB_ID") if job_id == own else self.get_job(job_id).get("parent_job")
        self.post(f"/w/{self.workspace}/job_metrics/set_progress/{job_id}", json={"percent": int(value), "flow_job_id": flow_id or None})

    def get_progress(self, job_id: Optional[str] = None) -> Any:
        """A job's progress in percent (this job by default), or None when never set."""
        job_id = job_id or _os.environ.get("WM_JOB_ID")
        r = self.get(f"/w/{self.workspace}/job_metrics/get_progress/{job_id}", raise_for_status=False)
        if r.status_code == 404:
            print(f"Job {job_id} does not exist")
            return None
        if r.status_code >= 400:
            raise WindmillHTTPError(f"{self.base_url}/w/{self.workspace}/job_metrics/get_progress/{job_id}", r.status_code, r.text)
        return r.json()

    def set_flow_user_state(self, key: str, value: Any) -> None:
        """Set a value shared by the steps of this job's flow (kept on the root flow job)."""
        flow_id = self.get_root_job_id()
        r = self.post(f"/w/{self.workspace}/jobs/flow/user_states/{flow_id}/{key}", json=value, raise_for_status=False)
        if r.status_code == 404:
            print(f"Job {flow_id} does not exist or is not a flow")
        elif r.status_code >= 400:
            raise WindmillHTTPError(f"{self.base_url}/w/{self.workspace}/jobs/flow/user_states/{flow_id}/{key}", r.status_code, r.text)

    def get_flow_user_state(self, key: str) -> Any:
        """A value set by set_flow_user_state in this job's flow (None when unset)."""
        flow_id = self.get_root_job_id()
        r = self.get(f"/w/{self.workspace}/jobs/flow/user_states/{flow_id}/{key}", raise_for_status=False)
        if r.status_code == 404:
            print(f"Job {flow_id} does not exist or is not a flow")
            return None
        if r.status_code >= 400:
            raise WindmillHTTPError(f"{self.base_url}/w/{self.workspace}/jobs/flow/user_states/{flow_id}/{key}", r.status_code, r.text)
        return r.json()

    # -- users and tokens ---------------------------------------------------------------------
    def username_to_email(self, username: str) -> str:
        return self.get(f"/w/{self.workspace}/users/username_to_email/{username}").text

    def create_token(self, duration=None) -> str:
        """A new token of this job's user, valid for `duration` (a timedelta, default one day)."""
        import datetime

        duration = duration or datetime.timedelta(days=1)
        expiration = (datetime.datetime.now(datetime.timezone.utc) + duration).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.post("/users/tokens/create", json={"label": "refresh from wmill", "expiration": expiration}).text


_client: Optional[Windmill] = None


def _c() -> Windmill:
    global _client
    if _client is None:
        _client = Windmill()
    return _client


def get_workspace() -> str:
    return _c().workspace


def get_version() -> str:
    return _c().version


def whoami() -> dict:
    return _c().user


def get_resource(path: str, none_if_undefined: bool = False) -> Any:
    """Get the value of a resource, with its $var:/$res: references resolved."""
    return _c().get_resource(path, none_if_undefined)


def set_resource(path: str, value: Any, resource_type: str = "any") -> None:
    """Set the value of a resource, creating it if it does not exist."""
    return _c().set_resource(value=value, path=path, resource_type=resource_type)


def get_variable(path: str) -> str:
    """Get the value of a variable (secrets included) as a string."""
    return _c().get_variable(path)


def set_variable(path: str, value: str, is_secret: bool = False) -> None:
    """Set the value of a variable, creating it if it does not exist."""
    return _c().set_variable(path, value, is_secret)


def get_state() -> Any:
    """The state of this script (None when never set)."""
    return _c().state


def set_state(value: Any) -> None:
    _c().set_state(value)


def get_state_path() -> str:
    return _c().state_path


def get(endpoint: str, raise_for_status: bool = True, **kwargs):
    """GET on the job's API (`/api` + endpoint); a response with .status_code, .text, .json()."""
    return _c().get(endpoint, raise_for_status, **kwargs)


def post(endpoint: str, raise_for_status: bool = True, **kwargs):
    """POST on the job's API (`/api` + endpoint), JSON body from `json=`."""
    return _c().post(endpoint, raise_for_status, **kwargs)


def username_to_email(username: str) -> str:
    return _c().username_to_email(username)


def list_resources(resource_type: str = None, page: int = None, per_page: int = None) -> list:
    return _c().list_resources(resource_type=resource_type, page=page, per_page=per_page)


def run_script_async(hash_or_path: str, args: dict = None, scheduled_in_secs: int = None) -> str:
    """Queue a script by path (it contains a '/') or by hash; returns the job id."""
    is_path = "/" in hash_or_path
    return _c().run_script_async(path=hash_or_path if is_path else None, hash_=None if is_path else hash_or_path, args=args, scheduled_in_secs=scheduled_in_secs)


def run_script_by_path_async(path: str, args: dict = None, scheduled_in_secs: int = None) -> str:
    return _c().run_script_by_path_async(path=path, args=args, scheduled_in_secs=scheduled_in_secs)


def run_script_by_hash_async(hash_: str, args: dict = None, scheduled_in_secs: int = None) -> str:
    return _c().run_script_by_hash_async(hash_=hash_, args=args, scheduled_in_secs=scheduled_in_secs)


def run_flow_async(path: str, args: dict = None, scheduled_in_secs: int = None, do_not_track_in_parent: bool = True) -> str:
    return _c().run_flow_async(path=path, args=args, scheduled_in_secs=scheduled_in_secs, do_not_track_in_parent=do_not_track_in_parent)


def run_script(
    path: str = None, hash_: str = None, args: dict = None, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = True
) -> Any:
    return _c().run_script(path=path, hash_=hash_, args=args, timeout=timeout, verbose=verbose, cleanup=cleanup, assert_result_is_not_none=assert_result_is_not_none)


def run_script_by_path(path: str, args: dict = None, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = True) -> Any:
    """Run the script at `path` and return its result (raises if it fails)."""
    return _c().run_script_by_path(path=path, args=args, timeout=timeout, verbose=verbose, cleanup=cleanup, assert_result_is_not_none=assert_result_is_not_none)


def run_script_by_hash(hash_: str, args: dict = None, timeout=None, verbose: bool = False, cleanup: bool = True, assert_result_is_not_none: bool = True) -> Any:
    """Run the script version `hash_` and return its result (raises if it fails)."""
    return _c().run_script_by_hash(hash_=hash_, args=args, timeout=timeout, verbose=verbose, cleanup=cleanup, assert_result_is_not_none=assert_result_is_not_none)


def run_script_sync(hash: str, args: dict = None, verbose: bool = False, assert_result_is_not_none: bool = True, cleanup: bool = True, timeout=None) -> Any:
    """Deprecated in Windmill's client: run_script_by_hash."""
    return _c().run_script(hash_=hash, args=args, verbose=verbose, assert_result_is_not_none=assert_result_is_not_none, cleanup=cleanup, timeout=timeout)


def run_script_by_path_sync(path: str, args: dict = None, verbose: bool = False, assert_result_is_not_none: bool = True, cleanup: bool = True, timeout=None) -> Any:
    """Deprecated in Windmill's client: run_script_by_path."""
    return _c().run_script(path=path, args=args, verbose=verbose, assert_result_is_not_none=assert_result_is_not_none, cleanup=cleanup, timeout=timeout)


def run_inline_script_preview(content: str, language: str, args: dict = None) -> Any:
    return _c().run_inline_script_preview(content=content, language=language, args=args)


def cancel_job(job_id: str, reason: str = None) -> str:
    return _c().cancel_job(job_id, reason)


def cancel_running() -> dict:
    return _c().cancel_running()


def set_progress(value: int, job_id: Optional[str] = None) -> None:
    _c().set_progress(value, job_id)


def get_progress(job_id: Optional[str] = None) -> Any:
    return _c().get_progress(job_id)


def set_flow_user_state(key: str, value: Any) -> None:
    _c().set_flow_user_state(key, value)


def get_flow_user_state(key: str) -> Any:
    return _c().get_flow_user_state(key)


def get_result(job_id: str, assert_result_is_not_none: bool = True) -> Any:
    return _c().get_result(job_id=job_id, assert_result_is_not_none=assert_result_is_not_none)


def get_job_status(job_id: str) -> str:
    return _c().get_job_status(job_id)


def get_root_job_id(job_id: Optional[str] = None) -> str:
    return _c().get_root_job_id(job_id)


def get_resume_urls(approver: Optional[str] = None) -> dict:
    return _c().get_resume_urls(approver)


from ._wac import (  # noqa: E402 - needs nothing above; kept at the end so it reads as an extension
    TaskError,
    get_approval_urls,
    parallel,
    sleep,
    step,
    task,
    task_flow,
    task_script,
    wait_for_approval,
    workflow,
)
