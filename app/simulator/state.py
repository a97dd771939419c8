"""What the simulator's HTTP layer serves from."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.simulator.access import AccessRules
from app.simulator.connections import ConnectionRegistry
from app.simulator.controller import Controller
from app.simulator.faults import FaultInjector
from app.simulator.recording import RequestLog
from app.simulator.store import ObjectStore
from app.simulator.watches import WatchHub


@dataclass(slots=True)
class SimulatorState:
    """The store, controller, fault injector, request log, open watches and open connections of
    one simulated cluster.

    `token`, when set, is the bearer token every API request must carry (else 401).
    """

    store: ObjectStore
    controller: Controller
    faults: FaultInjector
    log: RequestLog
    watches: WatchHub
    token: str | None = None
    connections: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    access: AccessRules = field(default_factory=AccessRules)

    def authenticated(self, token: str | None) -> bool:
        return self.token is None or token == self.token or (token is not None and self.access.knows(token))

    def reset(self, *, objects: bool) -> None:
        """Heal faults, unstick workloads, restore the controller's and the watches' settings,
        clear the request log; with `objects`, also delete every object. Deleting objects behind
        the watches' back would make their view wrong: open watches end and the history is
        forgotten, so that clients relist."""
        self.faults.reset()
        self.access.reset()
        self.controller.reset()
        self.watches.reset_settings()
        self.log.clear()
        if objects:
            self.watches.drop_all()
            self.store.clear()
            self.watches.history.forget()
