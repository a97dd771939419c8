"""The table (markdown, to paste into the README) and the JSON written under bench/results/."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.targets import Verdict

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    measure: str
    value: str
    compared: str = ""
    ratio: str = ""
    verdict: Verdict | None = None


@dataclass
class SectionResult:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def verdicts(self) -> list[Verdict]:
        return [row.verdict for row in self.rows if row.verdict is not None]


def table(sections: list[SectionResult]) -> str:
    header = "| section | measure | value | compared with | ratio | target | result |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for section in sections:
        for row in section.rows:
            target = row.verdict.description if row.verdict else ""
            result = row.verdict.cell if row.verdict else ""
            lines.append(
                f"| {row.section} | {row.measure} | {row.value} | {row.compared} | {row.ratio} | {target} | {result} |"
            )
    return "\n".join(lines)


def write_json(
    sections: list[SectionResult], *, started: datetime, backend: str, options: dict[str, Any], conditions: list[str]
) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{started:%Y%m%dT%H%M%S}-{backend}{'-smoke' if options.get('smoke') else ''}.json"
    document = {
        "started_at": started.isoformat(),
        "backend": backend,
        "options": options,
        "conditions": conditions,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "sections": {s.key: {"title": s.title, "data": s.data} for s in sections},
        "targets": [v.to_json() for s in sections for v in s.verdicts],
        "table": table(sections),
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path
