"""Which apps of one environment an operation or a schedule is about: named ones, or every app attached
(now and later), narrowed by teams and exclusions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class AppSelection:
    # Named apps; None when the selection is every app attached to the environment.
    apps: tuple[str, ...] | None
    # Only apps of these teams (every app's team when None); with `apps` None only.
    teams: tuple[str, ...] | None = None
    exclude_apps: tuple[str, ...] = ()

    @classmethod
    def from_input(
        cls,
        *,
        apps: Sequence[str] | None,
        all_apps: bool | None,
        teams: Sequence[str] | None,
        exclude_apps: Sequence[str] | None,
    ) -> AppSelection:
        """An explicit choice, never a default: `apps`, or `allApps: true`, exactly one of them."""
        if apps is not None and all_apps:
            raise InvalidInput("Give either `apps` or `allApps: true`, not both.", field="allApps")
        if apps is None and not all_apps:
            raise InvalidInput(
                "Say which apps: list them in `apps`, or give `allApps: true` for every app of the environment "
                "(narrowed by `teams` and `excludeApps`).",
                field="apps",
            )
        if apps is not None and (teams is not None or exclude_apps):
            raise InvalidInput(
                "`teams` and `excludeApps` narrow `allApps: true`; list the apps instead.", field="teams"
            )
        if teams is not None and not teams:
            raise InvalidInput("Give at least one team, or omit `teams` for every team.", field="teams")
        return cls(
            apps=None if apps is None else tuple(apps),
            teams=None if teams is None else tuple(dict.fromkeys(teams)),
            exclude_apps=tuple(dict.fromkeys(exclude_apps or ())),
        )

    def includes(self, app: str, team: str) -> bool:
        """Whether an app of this team, attached to the environment, is selected."""
        if self.apps is not None:
            return app in self.apps
        return (self.teams is None or team in self.teams) and app not in self.exclude_apps

    def shared_with(self, other: AppSelection, teams_of: dict[str, str]) -> list[str]:
        """The apps both select (`teams_of`: the team of each named app). Two selections of every app
        share whatever apps their teams may attach later: then the teams they share, as `team:<name>`."""
        if self.apps is not None and other.apps is not None:
            return sorted(set(self.apps) & set(other.apps))
        if self.apps is not None or other.apps is not None:
            named, every = (self, other) if self.apps is not None else (other, self)
            return sorted(app for app in named.apps or () if app in teams_of and every.includes(app, teams_of[app]))
        if self.teams is None or other.teams is None:
            shared = self.teams if other.teams is None else other.teams
            return ["every app"] if shared is None else [f"team:{team}" for team in sorted(shared)]
        return [f"team:{team}" for team in sorted(set(self.teams) & set(other.teams))]
