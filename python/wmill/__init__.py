"""wmill: the in-job Python SDK shipped with the wmill CLI.

Same names and behaviour as the `wmill` package of Windmill's Python client for the calls a
job makes against its worker (resources, variables, state, job results), over the job's API
(`BASE_INTERNAL_URL` + `/api`, `WM_TOKEN`, `WM_WORKSPACE`). Only the standard library is used
(urllib), and nothing heavy is imported until a call is made, so `import wmill` is free.
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
    "get_workspace",
    "get_version",
    "whoami",
    "get_resource",
    "set_resource",
    "get_variable",
    "set_variable",
    "get_state",
    "set_state",
    "get_state_path",
    "get_result",
    "get_job_status",
    "get_root_job_id",
    "get_resume_urls",
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
        path = path[len("var://"):] if path.startswith("var://") else path
        return self.get(f"/w/{self.workspace}/variables/get_value/{path}").json()

    def set_variable(self, path: str, value: str, is_secret: bool = False) -> None:
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
        for prefix in ("$res:", "res://"):
            if path.startswith(prefix):
                path = path[len(prefix):]
        try:
            return self.get(f"/w/{self.workspace}/resources/get_value_interpolated/{path}").json()
        except WindmillHTTPError:
            if none_if_undefined:
                return None
            raise

    def set_resource(self, value: Any, path: str, resource_type: str) -> None:
        r = self.get(f"/w/{self.workspace}/resources/get/{path}", raise_for_status=False)
        if r.status_code == 404:
            self.post(
                f"/w/{self.workspace}/resources/create",
                json={"path": path, "value": value, "resource_type": resource_type},
            )
        else:
            self.post(f"/w/{self.workspace}/resources/update_value/{path}", json={"value": value})

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

    # -- jobs --------------------------------------------------------------------------------
    def get_resume_urls(self, approver: Optional[str] = None) -> dict:
        """{approvalPage, resume, cancel} URLs that resume/cancel this job, signed for a random nonce."""
        import random

        nonce = random.randint(0, 4294967294)
        job_id = _os.environ.get("WM_JOB_ID") or "NO_JOB_ID"
        return self.get(f"/w/{self.workspace}/jobs/resume_urls/{job_id}/{nonce}", params={"approver": approver}).json()

    def get_job(self, job_id: str) -> dict:
        return self.get(f"/w/{self.workspace}/jobs_u/get/{job_id}").json()

    def get_root_job_id(self, job_id: Optional[str] = None) -> str:
        job_id = job_id or _os.environ.get("WM_ROOT_FLOW_JOB_ID") or _os.environ.get("WM_JOB_ID")
        return job_id

    def get_job_status(self, job_id: str) -> str:
        job = self.get_job(job_id)
        if str(job.get("type", "")).lower() == "completedjob":
            return "COMPLETED"
        return "RUNNING" if job.get("running") else "WAITING"

    def get_result(self, job_id: str, assert_result_is_not_none: bool = True) -> Any:
        r = self.get(f"/w/{self.workspace}/jobs_u/completed/get_result/{job_id}")
        try:
            result = r.json()
        except ValueError:
            result = r.text
        if assert_result_is_not_none and result is None:
            raise Exception(f"result is None for job_id = {job_id!r}")
        return result


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
