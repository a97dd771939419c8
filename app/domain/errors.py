"""Expected failures, as values with a code. The GraphQL layer maps them to payload errors in one place."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    APP_HIBERNATED = "APP_HIBERNATED"
    OPERATION_IN_PROGRESS = "OPERATION_IN_PROGRESS"
    CLUSTER_UNAVAILABLE = "CLUSTER_UNAVAILABLE"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


class HiberniaError(Exception):
    """A failure the caller can act on: it has a code, a message for people, and maybe a field."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(HiberniaError):
    def __init__(self, what: str, name: str, *, field: str | None = None) -> None:
        super().__init__(
            ErrorCode.NOT_FOUND,
            f"{what} '{name}' does not exist; check the name or create it first.",
            field=field,
        )


class InvalidInput(HiberniaError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, message, field=field)


class InvalidInputs(Exception):
    """Several invalid fields found at once, so the caller can fix them in one go."""

    def __init__(self, errors: list[HiberniaError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
