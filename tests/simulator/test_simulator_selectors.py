"""Label and field selectors: the API server's grammar and matching rules."""

from __future__ import annotations

import pytest

from app.simulator.selectors import (
    SelectorError,
    format_label_selector,
    parse_field_selector,
    parse_label_selector,
    selector_from_spec,
)

LABELS = {"app.kubernetes.io/instance": "api", "tier": "backend", "replicas": "3", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app.kubernetes.io/instance=api", True),
        ("app.kubernetes.io/instance==api", True),
        ("app.kubernetes.io/instance=web", False),
        ("app.kubernetes.io/instance!=web", True),
        ("missing!=web", True),
        ("tier in (backend,frontend)", True),
        ("tier in (frontend)", False),
        ("tier notin (frontend, batch)", True),
        ("missing notin (x)", True),
        ("tier notin (backend)", False),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!tier", False),
        ("empty=", True),
        ("replicas>2", True),
        ("replicas<3", False),
        ("  tier = backend ,  app.kubernetes.io/instance in ( api ) ", True),
        ("tier=backend,!missing,app.kubernetes.io/instance notin (web)", True),
        ("tier=backend,missing", False),
    ],
)
def test_label_selector_matching(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    "selector",
    ["tier in backend", "tier in ()", "=x", "tier=a b", "tier in (a", "tier ~ x", "x>y", "-bad-=x", "tier,=,"],
)
def test_malformed_label_selectors_are_rejected(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_spec_selectors_and_their_string_form() -> None:
    selector = selector_from_spec(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches({"app": "web", "tier": "a"})
    assert not selector.matches({"app": "web", "tier": "a", "legacy": "1"})
    assert format_label_selector(selector) == "app=web,!legacy,tier in (a,b)"
    reparsed = parse_label_selector(format_label_selector(selector))
    for labels in ({"app": "web", "tier": "a"}, {"app": "web", "tier": "c"}, {"app": "web", "tier": "b", "legacy": ""}):
        assert reparsed.matches(labels) == selector.matches(labels)


def test_field_selectors() -> None:
    fields = {"metadata.name": "web", "metadata.namespace": "dev"}
    assert parse_field_selector("metadata.name=web").matches(fields)
    assert parse_field_selector("metadata.name==web,metadata.namespace!=prod").matches(fields)
    assert not parse_field_selector("metadata.namespace=prod").matches(fields)
    with pytest.raises(SelectorError, match="not a known field selector"):
        parse_field_selector("spec.replicas=1")
