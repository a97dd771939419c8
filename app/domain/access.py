"""Who may do what: roles, principals and the permission rules (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import ErrorCode, HiberniaError


class Role(StrEnum):
    VIEWER = "viewer"
    DEPLOYER = "deployer"
    ADMIN = "admin"


class Action(StrEnum):
    READ = "read"
    OPERATE = "operate"  # deploy, hibernate, unhibernate (and their bulk forms)
    MANAGE = "manage"  # clusters, environments, apps, attachments, tokens


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.DEPLOYER: frozenset({Action.READ, Action.OPERATE}),
    Role.ADMIN: frozenset({Action.READ, Action.OPERATE, Action.MANAGE}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `environments` None means every environment; else only those names."""

    name: str
    role: Role
    environments: frozenset[str] | None = None
    authenticated: bool = True

    def sees(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments

    def may(self, action: Action, environment: str | None = None) -> bool:
        """`environment` None means an action on no one environment (a cluster, a new environment):
        only tokens that are not limited to environments may do those."""
        if action not in _ALLOWED[self.role]:
            return False
        return self.environments is None if environment is None else self.sees(environment)


class Forbidden(HiberniaError):
    def __init__(self, principal: Principal, action: Action, environment: str | None = None) -> None:
        where = f" in environment '{environment}'" if environment else ""
        if environment is None and principal.environments is not None:
            where = " outside its environments"
        need = {Action.READ: "viewer", Action.OPERATE: "deployer", Action.MANAGE: "admin"}[action]
        super().__init__(
            ErrorCode.FORBIDDEN,
            f"Token '{principal.name}' ({principal.role.value}) may not {action.value}{where}; "
            f"ask an admin for a {need} token{' for this environment' if environment else ''}.",
        )


def require(principal: Principal, action: Action, environment: str | None = None) -> None:
    if not principal.may(action, environment):
        raise Forbidden(principal, action, environment)


def local_admin(name: str) -> Principal:
    """The unauthenticated caller in development: may do everything."""
    return Principal(name=name, role=Role.ADMIN, environments=None, authenticated=False)
