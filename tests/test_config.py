from __future__ import annotations

import re
from pathlib import Path

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    names = {
        alias for field in Settings.model_fields.values() for alias in getattr(field.validation_alias, "choices", [])
    }
    assert names and names <= documented, names - documented


def test_the_switch_keeps_devtrons_exact_name(monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("FETCH_HELM_PIPELINE_APP_STATUS", "false")
    assert Settings().fetch_helm_pipeline_app_status is False
