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

Kubernetes API (see `api`, `routing` and `verbs`): core/v1 namespaces, apps/v1 deployments and
statefulsets, batch/v1 cronjobs, autoscaling/v2 horizontalpodautoscalers; get, list (namespaced
and all namespaces, label and field selectors, limit/continue), watch (`watches`: resourceVersion,
bookmarks, timeouts, selectors, 410 Expired beyond the history window), create, update,
merge/strategic-merge/JSON patch, delete, `dryRun=All`, `fieldValidation`, the `status` and
`scale` subresources; `resourceVersion` preconditions (409), `Status` bodies for 400, 404, 409,
410, 415, 422; the Table format of `kubectl get` (`tables`); discovery (/api, /apis, /version,
with or without a trailing slash) and the OpenAPI v2 and v3 documents (`openapi`). Namespaces
are created with the first object in them. Not served: server-side apply, pods, replicasets and
every other kind. kubectl, kr8s, lightkube and kubernetes-asyncio work against it:

    hibernia simulate-cluster --port 8001 --seed demo
    kubectl --server http://127.0.0.1:8001 get deploy -A

Admin endpoints (JSON; never faulted, never recorded):

    GET   /_simulator/faults     the fault knobs in force
    PUT   /_simulator/faults     replace the knobs; missing ones reset to their defaults
    PATCH /_simulator/faults     change only the given knobs
          knobs (`app.simulator.faults` says in which order they apply):
            latency_seconds (float)              every answer delayed
            error_rate (0..1)                    answered 500 InternalError
            throttle_next (int), throttle_rate   answered 429 with Retry-After: retry_after_seconds
            outage (bool)                        every request answered 503
            forbidden_namespaces (list)          403 in those namespaces
            namespaced_access (bool)             lists in all namespaces answered 403
            reset_next (int), reset_rate         the connection reset (RST, no answer) before the
                                                 request is applied: nothing changes
            conflict_next (int), conflict_rate   writes answered 409 Conflict, nothing changes
            dropped_answer_next, _rate           writes applied, then the connection reset: the
                                                 change landed but the client gets no answer
            late_answer_next, _rate              writes applied at once, the answer held
            late_answer_seconds (default 30)     ... that long (the client's timeout fires first)
            only_verbs / only_namespaces (lists) restrict every knob from latency on to matching
                                                 requests (verbs: get, list, create, update,
                                                 patch, delete, discovery)
            seed (int)                           the random source of the rates
          writes are create, update, patch and delete; the conflict and answer faults spare reads
    GET   /_simulator/controller the controller's timings: {"rollout_seconds", "status_churn_seconds"}
    PUT   /_simulator/controller replace them (missing ones: as the cluster was constructed)
    PATCH /_simulator/controller change only the given ones
          rollout_seconds: how long a rollout takes (0: at once, inside the write);
          status_churn_seconds (0 = off): during a rollout the controller writes the workload's
          status at least that often, bumping metadata.resourceVersion but not generation, as a
          real cluster does while pods come up (see `app.simulator.controller`)
    GET   /_simulator/watches    {"open": N, "bookmark_seconds", "max_pending", "history_size",
                                  "oldest": {"deployments.apps": "<resourceVersion>", ...}}
    PATCH /_simulator/watches    bookmark_seconds (default 60: BOOKMARK events when asked for),
                                 max_pending (default 1000: events a watcher may lag behind
                                 before it is ended and its connection closed), history_size
                                 (default 1000: events kept per kind for watches that resume)
    POST  /_simulator/watches/drop    end every open watch (clients see the stream end)
    POST  /_simulator/watches/forget  forget the history: a watch from an earlier
                                      resourceVersion gets an ERROR event with 410 Expired
    GET   /_simulator/stuck      {"workloads": ["namespace/name", ...]}
    PUT   /_simulator/stuck      replace the stuck set: those workloads never get ready pods and
                                 their Progressing condition turns ProgressDeadlineExceeded
    GET   /_simulator/access     {"tokens": {"<token>": ["patch deployments", ...]}}
    PUT   /_simulator/access     replace the extra bearer tokens and the verbs forbidden to each
                                 (403, and `allowed: false` in SelfSubjectAccessReviews, which
                                 POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews answers)
    GET   /_simulator/requests   {"total": N, "counts": {"list Deployment": 2, ...},
                                  "requests": [{method, path, verb, kind, namespace, name,
                                                subresource, label_selector, status}, ...]}
    DELETE /_simulator/requests  clear the request log
    POST  /_simulator/reset      heal faults, unstick workloads, restore the controller's timings
                                 and the watch settings, clear the log; `?objects=true` also
                                 deletes every object, ends open watches and forgets the history
    GET   /_simulator/objects    every stored object, by `plural.group`

In process the same knobs are `cluster.set_faults(conflict_next=1, ...)` (replaces them all),
`cluster.faults.reset_next = 2` (changes one), `SimulatedCluster(rollout_seconds=2,
status_churn_seconds=0.05)` and `cluster.controller.status_churn_seconds = 0.05`.

The request log's `status` is the HTTP status answered, or a pseudo-status when no answer reached
the client (constants in `app.simulator.recording`, exported here):

    444 CONNECTION_RESET     the connection was reset without an answer; nothing was changed
    299 APPLIED_UNANSWERED   the write was applied; its answer was dropped, or its client gave up
                             waiting for a late answer
    499 CLIENT_GONE          the client went away before the answer; nothing was changed

A request is recorded once its answer is settled: a client that gave up on a late answer is
recorded a moment after it closed its connection.

Connection refused (rather than 503) is `await cluster.go_offline()` / `go_online()` in process;
going offline also closes the connections the server holds open (watches and late answers; a
request being served otherwise finishes, as when an API server stops gracefully). An `outage`
ends open watches too; in process, `cluster.drop_watches()` and `cluster.forget_watch_history()`
are the two watch endpoints.
"""

from app.simulator.errors import ApiError
from app.simulator.faults import Faults
from app.simulator.recording import APPLIED_UNANSWERED, CLIENT_GONE, CONNECTION_RESET, RecordedRequest
from app.simulator.runner import SimulatedCluster, serve_simulator

__all__ = [
    "APPLIED_UNANSWERED",
    "CLIENT_GONE",
    "CONNECTION_RESET",
    "ApiError",
    "Faults",
    "RecordedRequest",
    "SimulatedCluster",
    "serve_simulator",
]
