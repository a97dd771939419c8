"""What `hibernia` exits with, so a pipeline can branch on it (README "From a pipeline")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0  # APPLIED, UNCHANGED; SKIPPED only when skipping was asked for
    FAILED = 1
    USAGE = 2  # bad arguments, INVALID_INPUT, NOT_FOUND
    HIBERNATED = 3  # APP_HIBERNATED: refused because the target is hibernated
    BUSY = 4  # OPERATION_IN_PROGRESS, CONFLICT
    UNAVAILABLE = 5  # the cluster, the server or the database did not answer
    TIMED_OUT = 6  # --wait gave up
    FORBIDDEN = 7  # FORBIDDEN, or the token was refused


EXIT_CODES_HELP = """exit codes:
  0  done (APPLIED, UNCHANGED; SKIPPED only with --on-hibernated skip)
  1  failed (FAILED, DEGRADED while waiting, INTERNAL)
  2  usage, INVALID_INPUT or NOT_FOUND
  3  refused because the app is hibernated (APP_HIBERNATED)
  4  busy (OPERATION_IN_PROGRESS, CONFLICT)
  5  unavailable (CLUSTER_UNAVAILABLE, the server or its database)
  6  timed out while waiting
  7  forbidden (FORBIDDEN) or not authenticated
  a bulk command exits with the worst code of its apps."""

_BY_ERROR_CODE = {
    "INVALID_INPUT": ExitCode.USAGE,
    "NOT_FOUND": ExitCode.USAGE,
    "APP_HIBERNATED": ExitCode.HIBERNATED,
    "OPERATION_IN_PROGRESS": ExitCode.BUSY,
    "CONFLICT": ExitCode.BUSY,
    "CLUSTER_UNAVAILABLE": ExitCode.UNAVAILABLE,
    "SERVICE_UNAVAILABLE": ExitCode.UNAVAILABLE,
    "FORBIDDEN": ExitCode.FORBIDDEN,
    "UNAUTHENTICATED": ExitCode.FORBIDDEN,
}

# Which of two codes a bulk command reports: the one a pipeline most needs to act on.
_SEVERITY = [
    ExitCode.DONE,
    ExitCode.HIBERNATED,
    ExitCode.BUSY,
    ExitCode.TIMED_OUT,
    ExitCode.FAILED,
    ExitCode.UNAVAILABLE,
    ExitCode.USAGE,
    ExitCode.FORBIDDEN,
]


def for_error_code(code: str) -> ExitCode:
    return _BY_ERROR_CODE.get(code, ExitCode.FAILED)


def worst(codes: list[ExitCode]) -> ExitCode:
    return max(codes, key=_SEVERITY.index, default=ExitCode.DONE)


class CommandError(Exception):
    """A failure the command reports in one line on stderr and exits with."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
