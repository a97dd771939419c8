"""What the simulator's HTTP layer serves from."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.simulator.connections import ConnectionRegistry
from app.simulator.controller import Controller
from app.simulator.faults import FaultInjector
from app.simulator.recording import RequestLog
from app.simulator.store import ObjectStore


@dataclass(slots=True)
class SimulatorState:
    """The store, controller, fault injector, request log and open connections of one simulated
    cluster.

    `token`, when set, is the bearer token every API request must carry (else 401).
    """

    store: ObjectStore
    controller: Controller
    faults: FaultInjector
    log: RequestLog
    token: str | None = None
    connections: ConnectionRegistry = field(default_factory=ConnectionRegistry)
