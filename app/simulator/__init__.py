"""A Kubernetes API server simulator: the subset of the REST API Hibernia uses, with the API
server's semantics, so the real kubernetes-asyncio client talks to it over HTTP.

Serving::

    cluster = SimulatedCluster(rollout_seconds=0)      # or: async with SimulatedCluster() as cluster
    url = await cluster.start()                         # http://127.0.0.1:<free port>
    cluster.add_deployment("dev", "web", "web", replicas=2, image="nginx:1.27")
    cluster.set_faults(throttle_next=1, retry_after_seconds=1)
    assert cluster.count("list", "Deployment", "dev") == 1
    await cluster.stop()

or from the command line: `hibernia simulate-cluster --port P [--rollout-seconds S] [--seed demo]`
(`serve_simulator`).

Kubernetes API (see `api`): apps/v1 deployments and statefulsets, batch/v1 cronjobs,
autoscaling/v2 horizontalpodautoscalers; get, list (namespaced and all namespaces, label and field
selectors, limit/continue), create, update, merge/strategic-merge/JSON patch, delete, the `status`
and `scale` subresources; `resourceVersion` preconditions (409), `Status` bodies for 400, 404, 409,
415, 422; /api, /apis, /version discovery. Not served: watch, server-side apply, namespaces and
every other kind.

Admin endpoints (JSON; never faulted, never recorded):

    GET   /_simulator/faults     the fault knobs in force
    PUT   /_simulator/faults     replace the knobs; missing ones reset to their defaults
    PATCH /_simulator/faults     change only the given knobs
          knobs: latency_seconds (float), error_rate (0..1, answered 500), throttle_next (int: the
          next N requests get 429), throttle_rate (0..1), retry_after_seconds (the Retry-After
          value), outage (bool: every request answered 503), forbidden_namespaces (list: 403),
          namespaced_access (bool: lists in all namespaces answered 403),
          only_verbs / only_namespaces (lists restricting latency, 429 and 500), seed (int: the
          random source of the rates)
    GET   /_simulator/stuck      {"workloads": ["namespace/name", ...]}
    PUT   /_simulator/stuck      replace the stuck set: those workloads never get ready pods and
                                 their Progressing condition turns ProgressDeadlineExceeded
    GET   /_simulator/requests   {"total": N, "counts": {"list Deployment": 2, ...},
                                  "requests": [{method, path, verb, kind, namespace, name,
                                                subresource, label_selector, status}, ...]}
    DELETE /_simulator/requests  clear the request log
    POST  /_simulator/reset      heal faults, unstick workloads, clear the log;
                                 `?objects=true` also deletes every object
    GET   /_simulator/objects    every stored object, by `plural.group`

Connection refused (rather than 503) is `await cluster.go_offline()` / `go_online()` in process.
"""

from app.simulator.errors import ApiError
from app.simulator.faults import Faults
from app.simulator.recording import RecordedRequest
from app.simulator.runner import SimulatedCluster, serve_simulator

__all__ = ["ApiError", "Faults", "RecordedRequest", "SimulatedCluster", "serve_simulator"]
