"""A stand-in for the HorizontalPodAutoscaler controller.

An HPA is reconciled on every change of the HPA or its target: a target at 0 replicas is left alone
(scaling disabled, as Kubernetes does), otherwise its replicas are clamped into
[minReplicas, maxReplicas]. No metrics are simulated.
"""

from __future__ import annotations

from typing import Any

from app.simulator.conditions import condition, now_text
from app.simulator.resources import DEPLOYMENTS, HORIZONTAL_POD_AUTOSCALERS, STATEFUL_SETS
from app.simulator.store import ObjectStore


def reconcile_hpa(store: ObjectStore, namespace: str, name: str, only_target: tuple[str, str] | None = None) -> None:
    """Bring the HPA's status and its target's replicas in line (`only_target`: only if the HPA
    scales that (kind, name))."""
    hpa = store.find(HORIZONTAL_POD_AUTOSCALERS, namespace, name)
    if hpa is None:
        return
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    target_kind, target_name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if only_target is not None and (target_kind, target_name) != only_target:
        return
    rt = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFUL_SETS}.get(target_kind)
    target = store.find(rt, namespace, target_name) if rt is not None else None
    now = now_text()
    old_status = hpa.get("status") or {}
    if rt is None or target is None:
        status: dict[str, Any] = {
            "currentReplicas": 0,
            "desiredReplicas": 0,
            "conditions": [
                condition(
                    old_status,
                    "AbleToScale",
                    "False",
                    "FailedGetScale",
                    "the HPA controller was unable to get the target's current scale: "
                    f'{target_kind} "{target_name}" not found',
                )
            ],
        }
    else:
        current = int((target.get("spec") or {}).get("replicas", 1))
        minimum = int(spec.get("minReplicas", 1))
        maximum = int(spec.get("maxReplicas", minimum))
        desired = 0 if current == 0 else min(max(current, minimum), maximum)
        if current == 0:
            scaling = condition(
                old_status,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        else:
            scaling = condition(
                old_status,
                "ScalingActive",
                "True",
                "ValidMetricFound",
                "the HPA was able to compute the replica count",
            )
        status = {
            "currentReplicas": current,
            "desiredReplicas": desired,
            "conditions": [
                condition(
                    old_status,
                    "AbleToScale",
                    "True",
                    "SucceededGetScale",
                    "the HPA controller was able to get the target's current scale",
                ),
                scaling,
            ],
        }
        if desired != current:
            status["lastScaleTime"] = now
            store.write_spec_field(rt, namespace, target_name, "replicas", desired)
        elif "lastScaleTime" in old_status:
            status["lastScaleTime"] = old_status["lastScaleTime"]
    if status != old_status:
        store.write_status(HORIZONTAL_POD_AUTOSCALERS, namespace, name, status)
