"""--profile: pyinstrument around a section's measured work, written under bench/results/.

The profiler samples the main thread whatever task runs (async_mode="disabled"): Hibernia, the
in-process simulator and the database driver share one event loop, and the point is to see where
its CPU goes. Besides pyinstrument's own HTML and text, `top_costs` sums self time per function and
per package, which is what the summary printed at the end shows.
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

# Where self time lands, by path fragment of the code (or of its nearest non-stdlib caller); the
# first match wins.
_PACKAGES = (
    ("app/cluster/simulator/", "simulator (in process; a real API server runs elsewhere)"),
    ("app/", "app"),
    ("schema/", "schema"),
    ("bench/", "bench"),
    ("kubernetes_asyncio/", "kubernetes_asyncio"),
    ("aiohttp/", "aiohttp"),
    ("sqlalchemy/", "sqlalchemy"),
    ("asyncpg/", "asyncpg"),
    ("aiosqlite/", "aiosqlite"),
    ("strawberry/", "strawberry"),
    ("graphql/", "graphql-core"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn (simulator's server)"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpx"),
    ("pydantic", "pydantic"),
)


@dataclass
class ProfileSummary:
    name: str
    seconds: float
    files: list[str]
    by_package: list[tuple[str, float]] = field(default_factory=list)
    by_function: list[tuple[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": self.seconds,
            "files": self.files,
            "self_seconds_by_package": [{"package": p, "seconds": s} for p, s in self.by_package],
            "self_seconds_by_function": [{"function": f, "seconds": s} for f, s in self.by_function],
        }


def _package(path: str) -> str | None:
    """The package a frame's code belongs to; None for the standard library and built-ins."""
    if "site-packages/" not in path and ("/lib/python3" in path or not path.startswith("/")):
        return None
    for fragment, name in _PACKAGES:
        if fragment in path:
            return name
    return "other"


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
    stack: list[tuple[Frame, str]] = [(root, "asyncio (task scheduling)")] if root is not None else []
    while stack:
        frame, owner = stack.pop()
        path = frame.file_path or "?"
        package = _package(path)
        if "selectors.py" in path or (package is None and frame.function.endswith(("select", "poll"))):
            package = "event loop idle (select)"
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
        by_package, by_function = top_costs(last.root_frame() if last else None)
        return ProfileSummary(name, seconds, [str(p) for p in (html, tree, flat)], by_package, by_function)
