"""GraphQL enums, each value described for the playground. Values mirror the domain enums by name."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="The status of an app on one environment.")
class AppStatus(Enum):
    NOT_DEPLOYED = strawberry.enum_value("NOT_DEPLOYED", description="Never deployed here and nothing running.")
    HEALTHY = strawberry.enum_value("HEALTHY", description="Every workload has the replicas it wants, ready.")
    PROGRESSING = strawberry.enum_value("PROGRESSING", description="A rollout is under way.")
    DEGRADED = strawberry.enum_value(
        "DEGRADED", description="A rollout or a wake is stuck or passed its progress deadline."
    )
    MISSING = strawberry.enum_value("MISSING", description="Deployed before, but no workloads exist now.")
    HIBERNATING = strawberry.enum_value(
        "HIBERNATING", description="Every workload is scaled to zero by hibernation, original replicas kept."
    )
    PARTIALLY_HIBERNATED = strawberry.enum_value(
        "PARTIALLY_HIBERNATED", description="Some workloads are hibernated, others run."
    )
    WAKING = strawberry.enum_value("WAKING", description="Unhibernated; replicas are coming back.")
    REDUCED = strawberry.enum_value(
        "REDUCED",
        description="Reduced mode: workloads scaled down to a count above 0 by hibernation, originals kept; "
        "awake for deploys, unhibernate restores them.",
    )
    STOPPED = strawberry.enum_value(
        "STOPPED",
        description="Every workload is at 0 replicas by its owner's choice (no hibernation): nothing to restore.",
    )
    UNKNOWN = strawberry.enum_value(
        "UNKNOWN", description="The cluster could not be asked (unreachable, timed out or refusing)."
    )


@strawberry.enum(description="Sort order.")
class SortDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending (A to Z, oldest first).")
    DESC = strawberry.enum_value("DESC", description="Descending (Z to A, newest first).")


@strawberry.enum(description="What to sort apps by.")
class AppOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="The app's name.")
    TEAM = strawberry.enum_value("TEAM", description="The owning team, then the app's name.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the app was created.")


@strawberry.enum(description="What to sort app environments by.")
class AppEnvironmentOrderField(Enum):
    APP_NAME = strawberry.enum_value("APP_NAME", description="The app's name, then the environment's name.")
    ENVIRONMENT_NAME = strawberry.enum_value(
        "ENVIRONMENT_NAME", description="The environment's name, then the app's name."
    )
    STATUS_SINCE = strawberry.enum_value("STATUS_SINCE", description="When the recorded status last changed.")


@strawberry.enum(description="Why an operation did not do what was asked.")
class ErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="A named object does not exist.")
    INVALID_INPUT = strawberry.enum_value("INVALID_INPUT", description="An input value is not acceptable.")
    APP_HIBERNATED = strawberry.enum_value(
        "APP_HIBERNATED", description="The target is hibernated and the policy says not to deploy."
    )
    OPERATION_IN_PROGRESS = strawberry.enum_value(
        "OPERATION_IN_PROGRESS", description="Another operation holds this app environment; retry later."
    )
    CLUSTER_UNAVAILABLE = strawberry.enum_value(
        "CLUSTER_UNAVAILABLE", description="The cluster did not answer, or refused; nothing was changed."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The object changed while being updated, more often than retries allow."
    )
    FORBIDDEN = strawberry.enum_value("FORBIDDEN", description="The caller may not do this.")
    SERVICE_UNAVAILABLE = strawberry.enum_value(
        "SERVICE_UNAVAILABLE",
        description="Hibernia's database did not answer. Retry in a few seconds; what reached the cluster is "
        "recorded once the database is back.",
    )
    INTERNAL = strawberry.enum_value(
        "INTERNAL", description="An unexpected error; the message carries the request id it was logged with."
    )


@strawberry.enum(description="The kinds of Kubernetes workload Hibernia manages.")
class WorkloadKind(Enum):
    DEPLOYMENT = strawberry.enum_value("Deployment", description="apps/v1 Deployment.")
    STATEFUL_SET = strawberry.enum_value("StatefulSet", description="apps/v1 StatefulSet.")
    CRON_JOB = strawberry.enum_value("CronJob", description="batch/v1 CronJob (hibernated by suspending it).")


@strawberry.enum(description="What an operation did.")
class OperationOutcome(Enum):
    APPLIED = strawberry.enum_value("APPLIED", description="The cluster was changed as asked.")
    UNCHANGED = strawberry.enum_value("UNCHANGED", description="Nothing to do: it already was as asked.")
    SKIPPED = strawberry.enum_value(
        "SKIPPED", description="Not done on purpose (a hibernated app with onHibernated: SKIP)."
    )
    FAILED = strawberry.enum_value("FAILED", description="Not done, or done in part; see `errors`.")


@strawberry.enum(description="What a deploy does when its target is hibernated or partially hibernated.")
class HibernatedPolicy(Enum):
    REFUSE = strawberry.enum_value("REFUSE", description="Do not deploy; answer APP_HIBERNATED.")
    SKIP = strawberry.enum_value("SKIP", description="Do not deploy; answer SKIPPED (for bulk deploys).")
    WAKE = strawberry.enum_value("WAKE", description="Unhibernate to the recorded replicas, then deploy.")


@strawberry.enum(description="How a recorded deployment ended.")
class DeploymentOutcome(Enum):
    RUNNING = strawberry.enum_value("RUNNING", description="Under way.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="The release was applied.")
    FAILED = strawberry.enum_value("FAILED", description="Not applied; `reason` says why.")
    SKIPPED = strawberry.enum_value("SKIPPED", description="Not applied because the target was hibernated.")
    UNCONFIRMED = strawberry.enum_value(
        "UNCONFIRMED",
        description="Sent, but the cluster's answer was lost and it could not be read back: the release may be "
        "running. Hibernia settles it to SUCCEEDED or FAILED from what the cluster shows once it answers.",
    )


@strawberry.enum(description="What caused a status transition.")
class TransitionCause(Enum):
    OBSERVED = strawberry.enum_value("OBSERVED", description="Seen in the cluster (a live read or the refresher).")
    DEPLOY = strawberry.enum_value("DEPLOY", description="A deploy through Hibernia.")
    HIBERNATE = strawberry.enum_value("HIBERNATE", description="A hibernate through Hibernia.")
    UNHIBERNATE = strawberry.enum_value("UNHIBERNATE", description="An unhibernate through Hibernia.")
    ATTACH = strawberry.enum_value("ATTACH", description="The app was attached to the environment.")
    SCHEDULE = strawberry.enum_value(
        "SCHEDULE", description="A schedule slept or woke it; the actor is `schedule:<name>`."
    )


@strawberry.enum(description="What a caller may do.")
class Role(Enum):
    VIEWER = strawberry.enum_value("viewer", description="May query.")
    DEPLOYER = strawberry.enum_value(
        "deployer", description="May also deploy, hibernate and unhibernate in its environments."
    )
    ADMIN = strawberry.enum_value("admin", description="May also change the catalog (in its environments).")


@strawberry.enum(description="A day of the week.")
class Weekday(Enum):
    MONDAY = strawberry.enum_value("MONDAY", description="Monday.")
    TUESDAY = strawberry.enum_value("TUESDAY", description="Tuesday.")
    WEDNESDAY = strawberry.enum_value("WEDNESDAY", description="Wednesday.")
    THURSDAY = strawberry.enum_value("THURSDAY", description="Thursday.")
    FRIDAY = strawberry.enum_value("FRIDAY", description="Friday.")
    SATURDAY = strawberry.enum_value("SATURDAY", description="Saturday.")
    SUNDAY = strawberry.enum_value("SUNDAY", description="Sunday.")


@strawberry.enum(description="What a schedule does at a boundary.")
class ScheduledActionKind(Enum):
    SLEEP = strawberry.enum_value("SLEEP", description="Hibernate (or reduce, with `reduceTo`).")
    WAKE = strawberry.enum_value("WAKE", description="Unhibernate: restore the original replicas.")
