"""What a token limited to some environments may see: everything else is silently absent."""

from __future__ import annotations

from app.domain.access import Action, require
from app.domain.errors import NotFound
from schema.context import Info


def require_visible(info: Info, environment: str) -> None:
    """An environment the caller may not see answers exactly like one that does not exist."""
    if not info.context.principal.sees(environment):
        raise NotFound("Environment", environment, field="environment")


async def visible_app(info: Info, app_id: int) -> bool:
    principal = info.context.principal
    if principal.environments is None:
        return True
    attachments = await info.context.loaders.app_environments_by_app_id.load(app_id)
    return any(principal.sees(row.environment.name) for row in attachments)


def require_action(info: Info, action: Action, environment: str | None = None) -> None:
    require(info.context.principal, action, environment)
