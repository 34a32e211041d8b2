"""Printer profiles, the serial printer host and the virtual printer.

transport.py   serial ports by URL, line reads/writes, port listing, baud detection (P26)
responses.py   pure parsers of firmware lines (ok, Resend, temperatures, errors, actions ...)
streamer.py    flow control without I/O: numbering, ok-window, resends, timeouts (P3–P21)
worker.py      one I/O thread per printer around a transport and a streamer
state.py       connection states, the transition table, status snapshots, events
job.py         a job's lines with progress, layer and the modes a resume restores
connection.py  PrinterConnection: the state machine the farm service drives (asyncio)
send.py        ``slicefarm send``
virtual/       a Marlin-like printer on a pty with seeded faults
"""
