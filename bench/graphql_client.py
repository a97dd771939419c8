"""A GraphQL client for the bench: any top-level error stops the bench (a wrong answer is not a timing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class BenchFailure(RuntimeError):
    """The harness could not measure what it meant to (wrong answer, server not starting, ...)."""


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    name: str

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        if response.status_code != 200:
            raise BenchFailure(f"{self.name}: HTTP {response.status_code}: {response.text[:500]}")
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise BenchFailure(f"{self.name}: GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data
