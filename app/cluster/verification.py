"""Checks a cluster before it is saved: the API server answers `/version`, the credentials are
accepted, and (per namespace) they may list and patch every workload kind (SelfSubjectAccessReview).
Plain HTTP with httpx: no client library state, and exactly what is wrong is said."""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

WORKLOAD_RESOURCES = (("apps", "deployments"), ("apps", "statefulsets"), ("batch", "cronjobs"))
NEEDED_VERBS = ("list", "patch")
_SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class Problem(StrEnum):
    MISSING_CONTEXT = "missing context"
    UNREACHABLE = "unreachable"
    UNAUTHORISED = "unauthorised"
    FORBIDDEN = "forbidden"


class ClusterCheckFailed(Exception):
    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to reach an API server, as stored for a cluster (PEM or base64 PEM for the certificates)."""

    server: str
    token: str | None = None
    ca_data: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None
    insecure_skip_tls_verify: bool = False


def pem(data: str) -> str:
    return data if "-----BEGIN" in data else base64.b64decode(data).decode("ascii")


@contextlib.contextmanager
def _client_files(credentials: Credentials) -> Iterator[tuple[str, str] | None]:
    if not (credentials.client_certificate_data and credentials.client_key_data):
        yield None
        return
    paths = []
    try:
        for data in (credentials.client_certificate_data, credentials.client_key_data):
            handle, path = tempfile.mkstemp(prefix="hibernia-check-")
            paths.append(path)
            with os.fdopen(handle, "w") as file:
                file.write(pem(data))
        yield paths[0], paths[1]
    finally:
        for path in paths:
            os.unlink(path)


def _tls(credentials: Credentials, client: tuple[str, str] | None) -> ssl.SSLContext | bool:
    if credentials.insecure_skip_tls_verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif credentials.ca_data:
        context = ssl.create_default_context(cadata=pem(credentials.ca_data))
    else:
        context = ssl.create_default_context()
    if client is not None:
        context.load_cert_chain(*client)
    return context


async def verify_cluster(credentials: Credentials, namespaces: Sequence[str], *, request_seconds: float) -> None:
    """Raises ClusterCheckFailed saying what is wrong; returns when the cluster may be used."""
    headers = {"authorization": f"Bearer {credentials.token}"} if credentials.token else {}
    server = credentials.server.rstrip("/")
    with _client_files(credentials) as client_files:
        async with httpx.AsyncClient(
            base_url=server, headers=headers, timeout=request_seconds, verify=_tls(credentials, client_files)
        ) as http:
            try:
                version = await http.get("/version")
            except httpx.HTTPError as error:
                raise ClusterCheckFailed(
                    Problem.UNREACHABLE, f"the API server at {server} does not answer ({error or type(error).__name__})"
                ) from None
            _refused(version, server)
            if version.status_code != 200:
                raise ClusterCheckFailed(
                    Problem.UNREACHABLE, f"the API server at {server} answered /version with HTTP {version.status_code}"
                )
            # Any authenticated caller may ask what it may do: this also tells whether the credentials count.
            forbidden = []
            targets: list[str | None] = [*namespaces] or [None]
            for namespace in targets:
                for group, resource in WORKLOAD_RESOURCES:
                    for verb in NEEDED_VERBS:
                        allowed = await _may(http, server, namespace, group, resource, verb)
                        if namespace is not None and not allowed:
                            forbidden.append(f"{verb} {resource} in namespace {namespace}")
                        if namespace is None:
                            return
            if forbidden:
                raise ClusterCheckFailed(
                    Problem.FORBIDDEN, f"the credentials may not {'; '.join(forbidden)} (Hibernia needs list and patch)"
                )


async def _may(
    http: httpx.AsyncClient, server: str, namespace: str | None, group: str, resource: str, verb: str
) -> bool:
    attributes = {"group": group, "resource": resource, "verb": verb}
    if namespace is not None:
        attributes["namespace"] = namespace
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    try:
        answer = await http.post(_SSAR, json=body)
    except httpx.HTTPError as error:
        raise ClusterCheckFailed(
            Problem.UNREACHABLE, f"the API server at {server} stopped answering ({error})"
        ) from None
    _refused(answer, server)
    if answer.status_code not in (200, 201):
        raise ClusterCheckFailed(
            Problem.FORBIDDEN,
            f"the API server at {server} answered a SelfSubjectAccessReview with HTTP {answer.status_code}",
        )
    return bool((answer.json().get("status") or {}).get("allowed"))


def _refused(answer: httpx.Response, server: str) -> None:
    if answer.status_code == 401:
        raise ClusterCheckFailed(
            Problem.UNAUTHORISED, f"the API server at {server} refused the credentials (401 Unauthorized)"
        )
