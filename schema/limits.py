"""Request limits read from the server's settings: tokens, depth, aliases, and introspection."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator


@lru_cache(maxsize=32)
def _rules(max_depth: int, max_aliases: int, production: bool) -> tuple[type[ASTValidationRule], ...]:
    # Cached so the same rule classes come back for the same settings (the validation cache keys on them).
    rules: list[type[ASTValidationRule]] = [
        depth_validator(max_depth, None, None),
        alias_validator(max_aliases),
    ]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class RequestLimits(SchemaExtension):
    """One schema serves every configuration: the limits come from the request's context."""

    def on_operation(self) -> Iterator[None]:
        settings = self.execution_context.context.settings
        self.execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        self.execution_context.validation_rules = self.execution_context.validation_rules + _rules(
            settings.max_query_depth, settings.max_query_aliases, settings.is_production
        )
        yield
