"""What the simulator's HTTP layer serves from."""

from __future__ import annotations

from dataclasses import dataclass

from app.cluster.simulator.controller import Controller
from app.cluster.simulator.faults import FaultInjector
from app.cluster.simulator.recording import RequestLog
from app.cluster.simulator.store import ObjectStore


@dataclass(slots=True)
class SimulatorState:
    """The store, controller, fault injector and request log of one simulated cluster.

    `token`, when set, is the bearer token every API request must carry (else 401).
    """

    store: ObjectStore
    controller: Controller
    faults: FaultInjector
    log: RequestLog
    token: str | None = None
