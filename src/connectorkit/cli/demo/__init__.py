"""``connectorkit demo``: the whole system against the in-process sandbox, in one command.

The command module (:mod:`.command`) only wires the parts: :mod:`.session` (sandbox + connectors),
:mod:`.journal` (event log and counters), :mod:`.strategy` (the scripted strategy),
:mod:`.summary` (fees, PnL, reconciliation with the sandbox's true state) and :mod:`.view`
(the live terminal view and the plain event log).
"""
