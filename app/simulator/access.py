"""Who may do what: extra bearer tokens with verbs forbidden to them, and SelfSubjectAccessReview.

The cluster's own token (`SimulatedCluster(token=...)`) may do everything unless verbs are forbidden to
it too. `grant(token, deny=["patch deployments", ...])` accepts another token whose listed verbs on the
listed resources (plural names, `*` for all) are answered 403 Forbidden, as RBAC would; POST
/apis/authorization.k8s.io/v1/selfsubjectaccessreviews answers for the caller's token what it may do,
from the same rules. Admin endpoint: GET/PUT /_simulator/access {"tokens": {"<token>": ["patch
deployments", ...]}}; `reset()` forgets the extra tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


@dataclass
class AccessRules:
    # token -> forbidden (verb, resource plural) pairs
    denied: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    def grant(self, token: str, deny: list[str] | tuple[str, ...] = ()) -> None:
        pairs = set()
        for rule in deny:
            verb, _, resource = rule.partition(" ")
            pairs.add((verb.strip(), resource.strip() or "*"))
        self.denied[token] = pairs

    def knows(self, token: str) -> bool:
        return token in self.denied

    def allows(self, token: str | None, verb: str, resource: str) -> bool:
        rules = self.denied.get(token or "", set())
        return not any(v in (verb, "*") and r in (resource, "*") for v, r in rules)

    def as_json(self) -> dict[str, Any]:
        return {"tokens": {token: sorted(f"{v} {r}" for v, r in rules) for token, rules in sorted(self.denied.items())}}

    def reset(self) -> None:
        self.denied.clear()


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def access_review(rules: AccessRules, token: str | None, body: Any) -> dict[str, Any]:
    """The SelfSubjectAccessReview answered for `token`: allowed or not, and why."""
    spec = body.get("spec") if isinstance(body, dict) else None
    attributes = (spec or {}).get("resourceAttributes") or {}
    verb, resource = str(attributes.get("verb", "")), str(attributes.get("resource", ""))
    allowed = rules.allows(token, verb, resource)
    status: dict[str, Any] = {"allowed": allowed}
    if not allowed:
        status["reason"] = f"RBAC: {verb} {resource} is not allowed for this token"
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec or {},
        "status": status,
    }
