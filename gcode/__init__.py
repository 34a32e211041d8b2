"""Everything that writes or reads G-code text.

Reading (issue 4): ``parse`` (vectorized parser), ``numbers`` (SWAR number reader),
``motion`` (modal state -> straight moves), ``estimate`` (Marlin planner model),
``metadata`` (what slicers say about their files), ``analyze`` (the farm's view of a
file), ``check`` (can it run on this printer), ``progress`` (M73 insertion),
``thumbnail`` (embedded images), ``cli`` (``slicefarm analyze``), ``errors``.
Writing: ``writer`` (the slicer's G-code), ``framing`` (N/checksum lines for the host).
"""
