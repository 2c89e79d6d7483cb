"""Checks of the troubleshoot-network lab: each of the trainee's tickets judged in four parts
(the user's complaint gone, the cause repaired for good, no collateral damage, the intervention
report), and the hosts no ticket is about left as they were. Written once in the engine
(:mod:`tspcr_lab.troubleshoot`); the faults, their probes and scopes are in the lab's
catalogue.toml."""

import pytest

from tspcr_lab.troubleshoot import Tickets, ticket_numbers

TICKETS = ticket_numbers("troubleshoot-network")


@pytest.fixture(scope="module")
def tickets(lab_context):
    return Tickets(lab_context)


@pytest.mark.competency("022", points=1)
@pytest.mark.parametrize("ticket", TICKETS)
def test_symptom(tickets, ticket, check):
    """The user's complaint is gone, tested from the user's side."""
    tickets.symptom(ticket, check)


@pytest.mark.competency("018", points=2, critical=True)
@pytest.mark.parametrize("ticket", TICKETS)
def test_cause(tickets, ticket, check):
    """The faulted thing is right again, persistently: not a workaround."""
    tickets.cause(ticket, check)


@pytest.mark.competency("022", points=1)
@pytest.mark.parametrize("ticket", TICKETS)
def test_no_damage(tickets, ticket, check, note):
    """Nothing outside the repair changed on the hosts of the ticket's fault."""
    tickets.damage(ticket, check, note)


@pytest.mark.competency("016", points=1)
@pytest.mark.parametrize("ticket", TICKETS)
def test_report(tickets, ticket, check, note):
    """The intervention report: its headings filled in, its cause naming the real fault."""
    tickets.report(ticket, check, note)


@pytest.mark.competency("022", points=1)
def test_no_damage_elsewhere(tickets, check, note):
    """The hosts no ticket is about are as they were."""
    tickets.damage_elsewhere(check, note)
