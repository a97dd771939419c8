"""Helpers for the sections that run Hibernia as separate processes (throughput, dashboard)."""

from __future__ import annotations

import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(log: Path, size: int = 2000) -> str:
    """The end of a server's log, for the message when it did not start."""
    return log.read_text(errors="replace")[-size:]
