"""Checks of the troubleshoot-system lab: each of the trainee's tickets judged in four parts (the
user's complaint gone, the cause repaired for good, no collateral damage, the intervention
report), and the hosts no ticket is about left as they were. Written once in the engine
(:func:`tspcr_lab.troubleshoot.ticket_checks`); the faults, their probes, scopes and
competencies are in the lab's catalogue.toml."""

from tspcr_lab.troubleshoot import ticket_checks

globals().update(ticket_checks("troubleshoot-system", "021"))
