"""The floor (section 1b): Hibernia's own schema, with every data source answered from memory.

`recording_view` runs the real thing once and records what each dataloader returned (key by key)
and what each resolver session query returned (in call order). `floor_view` then serves the same
query on the same schema (schema.schema.schema), with the same context type, whose loaders and read
sessions replay those recordings: no database, no cluster. What is left is the cost of HTTP,
GraphQL execution, the resolvers and the types, i.e. the least a request of this shape can cost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from app.main import Runtime, graphql_endpoint
from schema.context import Context
from schema.dataloaders import Loaders
from schema.http import GraphQLHttp


class FloorMiss(RuntimeError):
    """The floor was asked for something the recorded run did not fetch."""


@dataclass
class Recording:
    loads: dict[str, dict[Hashable, Any]] = field(default_factory=dict)
    queries: list[list[Any]] = field(default_factory=list)


class _Rows(list[Any]):
    """What `session.scalars()` returns, as far as the resolvers use it."""

    def all(self) -> list[Any]:
        return list(self)


def _loader_names(loaders: Loaders) -> list[str]:
    return [name for name, value in vars(loaders).items() if isinstance(value, DataLoader)]


def _record_loads(loaders: Loaders, recording: Recording) -> None:
    for name in _loader_names(loaders):
        loader: DataLoader[Any, Any] = getattr(loaders, name)
        original = loader.load_fn
        values = recording.loads.setdefault(name, {})

        async def load(keys: list[Any], original: Any = original, values: dict[Hashable, Any] = values) -> list[Any]:
            found = list(await original(keys))
            values.update(zip(keys, found, strict=True))
            return found

        loader.load_fn = load


def _replay_loads(loaders: Loaders, recording: Recording) -> None:
    for name in _loader_names(loaders):
        values = recording.loads.get(name, {})

        async def load(keys: list[Any], values: dict[Hashable, Any] = values, name: str = name) -> list[Any]:
            try:
                return [values[key] for key in keys]
            except KeyError as missing:
                raise FloorMiss(f"loader {name} was not asked for {missing} in the recorded run") from None

        setattr(loaders, name, DataLoader(load_fn=load))


class _RecordingSession:
    def __init__(self, session: AsyncSession, recording: Recording) -> None:
        self._session = session
        self._recording = recording

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> _Rows:
        rows = _Rows(await self._session.scalars(statement, *args, **kwargs))
        self._recording.queries.append(rows)
        return rows

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        value = await self._session.scalar(statement, *args, **kwargs)
        self._recording.queries.append([value])
        return value

    def __getattr__(self, name: str) -> Any:
        raise FloorMiss(f"the floor replays session.scalars/scalar only; a resolver used session.{name}")


class _ReplaySession:
    def __init__(self, recording: Recording, position: list[int]) -> None:
        self._recording = recording
        self._position = position  # shared by every session of one request: replays in call order

    def _next(self) -> list[Any]:
        index = self._position[0]
        if index >= len(self._recording.queries):
            raise FloorMiss("a resolver ran more session queries than the recorded run")
        self._position[0] += 1
        return self._recording.queries[index]

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> _Rows:
        return _Rows(self._next())

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._next()[0]

    def __getattr__(self, name: str) -> Any:
        raise FloorMiss(f"the floor replays session.scalars/scalar only; a resolver used session.{name}")


class _RecordingContext(Context):
    recording: Recording

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        async with self.session_factory() as session:
            yield _RecordingSession(session, self.recording)  # type: ignore[misc]


class _FloorContext(Context):
    recording: Recording
    position: list[int]

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        yield _ReplaySession(self.recording, self.position)  # type: ignore[misc]

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        raise FloorMiss("the floor serves queries only")
        yield


def _no_database() -> AsyncSession:
    raise FloorMiss("the floor must not open a database session")


def _copy_as(kind: type[Context], context: Context, **changes: Any) -> Any:
    values = {f.name: getattr(context, f.name) for f in fields(context) if f.init}
    values.update(changes)
    return kind(**values)


def recording_view(runtime: Runtime, recording: Recording) -> GraphQLHttp:
    """Hibernia's view; records what its loaders and read sessions returned."""
    view = graphql_endpoint(runtime)
    real = view.make_context

    async def make_context(request: Request) -> Context:
        context: _RecordingContext = _copy_as(_RecordingContext, await real(request))
        context.recording = recording
        _record_loads(context.loaders, recording)
        return context

    view.make_context = make_context
    return view


def floor_view(runtime: Runtime, recording: Recording) -> GraphQLHttp:
    """Hibernia's view over a recording: same schema and context type, data from memory."""
    view = graphql_endpoint(runtime)
    real = view.make_context

    async def make_context(request: Request) -> Context:
        context: _FloorContext = _copy_as(_FloorContext, await real(request), session_factory=_no_database)
        context.recording = recording
        context.position = [0]
        _replay_loads(context.loaders, recording)
        return context

    view.make_context = make_context
    return view
