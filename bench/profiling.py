"""--profile: pyinstrument around a section's measured work, written under bench/results/.

The profiler samples the main thread whatever task runs (async_mode="disabled"): Hibernia, the
in-process simulator and the database driver share one event loop, and the point is to see where
its CPU goes. Besides pyinstrument's own HTML and text, `top_costs` sums self time per function and
per package and `inclusive_own_code` totals time under Hibernia's own functions: the summary
printed at the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from pyinstrument.frame import SELF_TIME_FRAME_IDENTIFIER, Frame

from bench.report import RESULTS_DIR

_ROOT = str(Path(__file__).resolve().parents[1]) + "/"
SIMULATOR = "simulator (in process; a real API server runs elsewhere)"
# Where self time lands: the package of the code, or of its nearest caller outside the standard
# library (so `deepcopy` under the simulator's store counts as the simulator). The first match wins.
_OWN = (
    ("app/simulator/", SIMULATOR),
    ("app/", "app"),
    ("schema/", "schema"),
    ("bench/", "bench (the measuring client)"),
)
_LIBRARIES = (
    ("kubernetes_asyncio/", "kubernetes_asyncio"),
    ("aiohttp/", "aiohttp"),
    ("sqlalchemy/", "sqlalchemy"),
    ("asyncpg/", "asyncpg"),
    ("aiosqlite/", "aiosqlite"),
    ("strawberry/", "strawberry"),
    ("graphql/", "graphql-core"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn (the in-process simulator's server)"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpx"),
    ("pydantic", "pydantic"),
    ("prometheus_client/", "prometheus_client"),
    ("greenlet/", "sqlalchemy"),
)
_OWN_CODE = {name for _, name in _OWN[:-1]}
_EVENT_LOOP = "asyncio (event loop: task steps, callbacks, transports)"


@dataclass
class ProfileSummary:
    name: str
    seconds: float
    files: list[str]
    by_package: list[tuple[str, float]] = field(default_factory=list)
    by_function: list[tuple[str, float]] = field(default_factory=list)
    inclusive: list[tuple[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": self.seconds,
            "files": self.files,
            "self_seconds_by_package": [{"package": p, "seconds": s} for p, s in self.by_package],
            "self_seconds_by_function": [{"function": f, "seconds": s} for f, s in self.by_function],
            "inclusive_seconds_of_own_code": [{"function": f, "seconds": s} for f, s in self.inclusive],
        }


def _package(path: str) -> str | None:
    """The package a frame's code belongs to; None for the standard library and built-ins."""
    if "site-packages/" in path:
        library = path.split("site-packages/", 1)[1]
        for fragment, name in _LIBRARIES:
            if library.startswith(fragment):
                return name
        return "other libraries"
    if path.startswith(_ROOT):
        relative = path[len(_ROOT) :]
        for fragment, name in _OWN:
            if relative.startswith(fragment):
                return name
        return "other"
    return None


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    if "/lib/python3" in path:
        return "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 1)[-1]
    return path


def top_costs(root: Frame | None, limit: int = 25) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Self time summed per package and per function. Standard library and built-in code (copy,
    json, the event loop's own bookkeeping, ...) is charged to the package that called it, so
    `deepcopy` under the simulator's store counts as the simulator."""
    packages: dict[str, float] = defaultdict(float)
    functions: dict[str, float] = defaultdict(float)
    stack: list[tuple[Frame, str]] = [(root, _EVENT_LOOP)] if root is not None else []
    while stack:
        frame, owner = stack.pop()
        path = frame.file_path or "?"
        package = _package(path)
        if "selectors.py" in path or (package is None and frame.function.endswith(("select", "poll"))):
            package = "event loop idle (select)"
        elif path.endswith("asyncio/events.py") and frame.function.endswith("_run"):
            package = _EVENT_LOOP  # a callback or task step: whatever the loop runs starts a new owner
        owner = package or owner
        own = 0.0
        for child in frame.children:
            if child.identifier == SELF_TIME_FRAME_IDENTIFIER:
                own += child.time
            elif not child.is_synthetic:
                stack.append((child, owner))
        if own <= 0:
            continue
        packages[owner] += own
        functions[f"{_short(path)}:{frame.function}"] += own
    by_package = sorted(packages.items(), key=lambda item: -item[1])
    by_function = sorted(functions.items(), key=lambda item: -item[1])[:limit]
    return by_package, by_function


def inclusive_own_code(root: Frame | None, limit: int = 25) -> list[tuple[str, float]]:
    """Total time under each function of app/ and schema/ (recursion counted once).

    SQLAlchemy runs its sync core in greenlets whose stacks do not reach back to the awaiting
    function, so SQL statement execution shows up as roots of its own, not under these."""
    totals: dict[str, float] = defaultdict(float)
    stack: list[tuple[Frame, frozenset[str]]] = [(root, frozenset())] if root is not None else []
    while stack:
        frame, above = stack.pop()
        path = frame.file_path or "?"
        key = f"{_short(path)}:{frame.function}"
        if _package(path) in _OWN_CODE:
            if key not in above:
                totals[key] += frame.time
            above = above | {key}
        stack.extend((child, above) for child in frame.children if not child.is_synthetic)
    return sorted(totals.items(), key=lambda item: -item[1])[:limit]


@dataclass
class Profiles:
    enabled: bool
    stem: str  # e.g. 20261127T101500-postgres
    summaries: list[ProfileSummary] = field(default_factory=list)

    @asynccontextmanager
    async def profile(self, name: str) -> AsyncIterator[None]:
        if not self.enabled:
            yield
            return
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        try:
            yield
        finally:
            session = profiler.stop()
            self.summaries.append(self._write(name, profiler, session.duration))

    def _write(self, name: str, profiler: Profiler, seconds: float) -> ProfileSummary:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        base = RESULTS_DIR / f"{self.stem}-{name}"
        html, tree, flat = Path(f"{base}.html"), Path(f"{base}.txt"), Path(f"{base}-flat.txt")
        html.write_text(profiler.output_html(), encoding="utf-8")
        tree.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
        flat.write_text(profiler.output_text(unicode=True, show_all=True, flat=True), encoding="utf-8")
        last = profiler.last_session
        root = last.root_frame() if last else None
        by_package, by_function = top_costs(root)
        files = [str(p) for p in (html, tree, flat)]
        return ProfileSummary(name, seconds, files, by_package, by_function, inclusive_own_code(root))
