"""The patch formats: JSON merge patch, strategic merge patch, JSON patch."""

from __future__ import annotations

from typing import Any

import pytest

from app.simulator.patches import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchConflictError,
    PatchFormatError,
    apply_patch,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)


def _deployment() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "annotations": {"a": "1", "b": "2"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "proxy", "image": "envoy:1"},
                    ]
                }
            },
        },
    }


def test_merge_patch_merges_maps_deletes_nulls_and_replaces_lists() -> None:
    original = _deployment()
    patched = merge_patch(
        original,
        {
            "metadata": {"annotations": {"a": None, "c": "3"}},
            "spec": {"replicas": 0, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
        },
    )
    assert patched["metadata"]["annotations"] == {"b": "2", "c": "3"}
    assert patched["spec"]["replicas"] == 0
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "web:2"}]
    assert original == _deployment(), "the target is never modified"


def test_strategic_merge_patch_merges_containers_by_name() -> None:
    patched = strategic_merge_patch(
        _deployment(),
        {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "proxy"}],
            "metadata": {"annotations": {"b": None}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "web", "image": "web:2", "env": [{"name": "B", "value": "2"}]},
                            {"name": "cache", "image": "redis:7"},
                        ]
                    }
                }
            },
        },
    )
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("web", "web:2"),
        ("proxy", "envoy:1"),
        ("cache", "redis:7"),
    ]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert patched["metadata"]["annotations"] == {"a": "1"}
    assert "$setElementOrder/containers" not in patched


def test_strategic_merge_patch_directives() -> None:
    deleted = strategic_merge_patch(
        _deployment(), {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}}
    )
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["web"]
    replaced = strategic_merge_patch(_deployment(), {"metadata": {"annotations": {"$patch": "replace", "z": "9"}}})
    assert replaced["metadata"]["annotations"] == {"z": "9"}
    with pytest.raises(PatchConflictError, match="merge key"):
        strategic_merge_patch(_deployment(), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})


def test_json_patch_operations() -> None:
    patched = json_patch(
        _deployment(),
        [
            {"op": "test", "path": "/spec/replicas", "value": 2},
            {"op": "replace", "path": "/spec/replicas", "value": 0},
            {"op": "add", "path": "/metadata/annotations/hibernator.devtron.ai~1replicas", "value": "2"},
            {"op": "remove", "path": "/metadata/annotations/a"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c", "image": "c:1"}},
            {"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"},
            {"op": "move", "from": "/metadata/annotations/b", "path": "/metadata/annotations/bb"},
        ],
    )
    assert patched["spec"]["replicas"] == 0
    assert patched["metadata"]["annotations"] == {"hibernator.devtron.ai/replicas": "2", "bb": "2"}
    assert patched["metadata"]["generateName"] == "web"
    assert patched["spec"]["template"]["spec"]["containers"][-1]["name"] == "c"
    with pytest.raises(PatchConflictError, match="test failed"):
        json_patch(_deployment(), [{"op": "test", "path": "/spec/replicas", "value": 5}])
    with pytest.raises(PatchConflictError):
        json_patch(_deployment(), [{"op": "remove", "path": "/spec/missing"}])
    with pytest.raises(PatchFormatError):
        json_patch(_deployment(), [{"op": "frobnicate", "path": "/spec"}])


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [(MERGE_PATCH, [1]), (STRATEGIC_MERGE_PATCH, "x"), (JSON_PATCH, {"op": "add"})],
)
def test_a_patch_of_the_wrong_shape_is_a_format_error(content_type: str, patch: Any) -> None:
    with pytest.raises(PatchFormatError):
        apply_patch(content_type, _deployment(), patch)
