"""The virtual printer: a Marlin-like simulator behind a real pty (see :mod:`.pty`)."""

from printers.virtual.faults import FaultConfig, FaultSpecError
from printers.virtual.firmware import VirtualFirmware
from printers.virtual.pty import VirtualPrinter

__all__ = ["FaultConfig", "FaultSpecError", "VirtualFirmware", "VirtualPrinter"]
