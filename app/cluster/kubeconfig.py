"""Credentials read out of a kubeconfig, so they can be stored with the cluster: every replica can then
reach it, whatever files its machine has."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type information

from app.cluster.verification import ClusterCheckFailed, Credentials, Problem


def _named(entries: Any, name: str) -> dict[str, Any] | None:
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def _data(section: dict[str, Any], key: str, base: Path) -> str | None:
    """`key-data` as is (base64 of PEM), or the file `key` names read and encoded the same way."""
    if section.get(f"{key}-data"):
        return str(section[f"{key}-data"])
    if section.get(key):
        path = Path(str(section[key])).expanduser()
        path = path if path.is_absolute() else base / path
        return base64.b64encode(path.read_bytes()).decode("ascii")
    return None


def credentials_from_kubeconfig(path: str, context: str | None) -> tuple[str, Credentials]:
    """(The context used, its cluster's server and user's credentials); ClusterCheckFailed when the
    context is missing or its credentials are not ones Hibernia can store."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    base = Path(path).resolve().parent
    name = context or config.get("current-context")
    contexts = [c.get("name") for c in config.get("contexts") or [] if isinstance(c, dict)]
    entry = _named(config.get("contexts"), name) if name else None
    if entry is None:
        known = ", ".join(str(c) for c in contexts) or "none"
        which = f"context '{name}'" if name else "a current context"
        raise ClusterCheckFailed(
            Problem.MISSING_CONTEXT, f"the kubeconfig {path} has no {which} (its contexts: {known})"
        )
    details = entry.get("context") or {}
    cluster = (_named(config.get("clusters"), details.get("cluster", "")) or {}).get("cluster")
    if not cluster or not cluster.get("server"):
        raise ClusterCheckFailed(
            Problem.MISSING_CONTEXT, f"context '{name}' names cluster '{details.get('cluster')}', which has no server"
        )
    user = (_named(config.get("users"), details.get("user", "")) or {}).get("user") or {}
    if user.get("exec") or user.get("auth-provider"):
        raise ClusterCheckFailed(
            Problem.UNAUTHORISED,
            f"context '{name}' gets its credentials from a program (exec/auth-provider), which Hibernia cannot store; "
            "use a service account token",
        )
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(str(user["tokenFile"])).expanduser().read_text(encoding="utf-8").strip()
    return str(name), Credentials(
        server=str(cluster["server"]),
        token=str(token) if token else None,
        ca_data=_data(cluster, "certificate-authority", base),
        client_certificate_data=_data(user, "client-certificate", base),
        client_key_data=_data(user, "client-key", base),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
    )
