"""Exceptions of the printer host.  Messages name the printer or port and what went wrong."""

from __future__ import annotations

__all__ = ["PrinterError", "ProtocolError", "StateError", "TransportError"]


class PrinterError(Exception):
    """Base of every printer host error."""


class TransportError(PrinterError):
    """The serial port cannot be opened, read or written (device gone, bad URL)."""


class ProtocolError(PrinterError):
    """The firmware broke the protocol or stopped answering (timeouts, stuck resends)."""


class StateError(PrinterError):
    """An operation not allowed in the connection's current state (e.g. pause when idle)."""
