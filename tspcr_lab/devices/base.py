"""The driver base: getters that return the typed model, whatever the device.

A driver reads one device (a Linux host, a Cisco IOS switch or router...) and answers the getters
below with :mod:`tspcr_lab.devices.model` types. A check is written once against them::

    ports = switch.switchports()
    assert ports["GigabitEthernet0/5"].access_vlan == 10

Two errors, both :class:`~tspcr_lab.errors.ProbeError` (the check is then an *error*, never the
trainee's failure):

* :class:`NotSupported` -- this driver cannot give this getter (a Linux host has no VLAN table);
* :class:`ParseError` -- the device answered something the driver cannot read: the command was
  refused (``% Invalid input detected``), TextFSM or JSON could not parse it, a field had an
  unexpected value. A driver never returns raw text in place of parsed data.

:class:`HostDriver` is the base of drivers over a tspcr-lab ``Host`` (Linux, Open vSwitch).
Helpers shared by drivers: :func:`cli_error` (the error line of an IOS-like CLI, also FRR's
vtysh), :func:`textfsm_rows` (ntc-templates, never netmiko's ``use_textfsm`` which returns the raw
text when parsing fails) and :func:`json_value`.
"""

from __future__ import annotations

import abc
import contextlib
import json
import re
from typing import Any, Iterator

from ..errors import ProbeError
from .model import Facts, Interface, Interfaces, MacEntry, OspfInterface, OspfNeighbor, Route, Switchport, Vlan

__all__ = ["Driver", "HostDriver", "NotSupported", "ParseError", "cli_error", "json_value", "textfsm_rows"]


class NotSupported(ProbeError):
    """The driver cannot give this getter. ``driver``: its class name; ``getter``: the getter."""

    def __init__(self, device: str, driver: str, getter: str):
        self.device, self.driver, self.getter = device, driver, getter
        super().__init__(f"{device}: {driver} does not support {getter}()")


class ParseError(ProbeError):
    """What a device answered cannot be read. ``command``: the command; ``detail``: why."""

    def __init__(self, device: str, driver: str, command: str, detail: str):
        self.device, self.driver, self.command, self.detail = device, driver, command, detail
        super().__init__(f"{device}: {driver} cannot parse `{command}`: {detail}")


# The answers of an IOS-like CLI (IOS, IOS XE, FRR's vtysh) to a command it does not take.
_CLI_ERROR = re.compile(r"^%\s*(Invalid input|Incomplete command|Ambiguous command|Unknown command|"
                        r"Unrecognized command|Command incomplete)", re.IGNORECASE)


def cli_error(output: str) -> str | None:
    """The CLI's error line when ``output`` is a refusal (``% Invalid input detected at '^'
    marker.``), else None. Only the first lines are read: a refusal comes first (after the ``^``
    marker), while a long output (a configuration, a banner) may quote such text further down."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines[:3] if _CLI_ERROR.match(line)), None)


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def textfsm_rows(platform: str, command: str, output: str, *, rows: str = r"\S") -> list[dict[str, Any]]:
    """Parse ``output`` with ntc-templates' template for ``platform`` and ``command`` and return
    its rows (lowercase keys). ``rows`` is a regular expression that a line holding data matches
    (by default: any line that is not blank): an empty result while some line matches it means the
    template read nothing it should have, a ValueError, as is a template error or a missing
    template. A table that is really empty (headers only) gives ``[]``."""
    from ntc_templates.parse import parse_output  # imported here: loading TextFSM costs ~0.1 s

    try:
        result = parse_output(platform=platform, command=command, data=output)
    except Exception as exc:  # ParsingException, TextFSMError, CliTableError...: all one thing here
        raise ValueError(f"TextFSM: {one_line(exc)}") from exc
    if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
        raise ValueError(f"TextFSM returned {type(result).__name__}, not a list of rows")
    if not result and any(re.search(rows, line) for line in output.splitlines()):
        raise ValueError("TextFSM found no row in a non-empty output")
    return result


def json_value(output: str, kind: type = list) -> Any:
    """``output`` parsed as JSON, which must be a ``kind`` (ValueError otherwise)."""
    value = json.loads(output)  # json.JSONDecodeError is a ValueError
    if not isinstance(value, kind):
        raise ValueError(f"expected a JSON {kind.__name__}, got {type(value).__name__}")
    return value


class Driver(abc.ABC):
    """Base class of device drivers.

    ``name`` is the device's name in messages (the lab's host name). Every getter a driver does
    not override raises :class:`NotSupported`. Getters returning interfaces key them by the name
    the device gives, in an :class:`~tspcr_lab.devices.model.Interfaces` mapping (which also finds
    ``"Gi0/1"`` as ``"GigabitEthernet0/1"``).

    A subclass implements the getters it can with the commands of its device, reads every output
    inside :meth:`parsing` (which turns ValueError, KeyError, TypeError and IndexError into a
    :class:`ParseError` naming the command), and raises :meth:`refused` (a ParseError) when the
    device refuses a command.
    """

    platform: str = ""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # --- getters --------------------------------------------------------------------------------

    @abc.abstractmethod
    def facts(self) -> Facts:
        """Host name, and model and software version when the device says."""

    def interfaces(self) -> Interfaces[Interface]:
        """Every interface, by name."""
        raise self.unsupported("interfaces")

    def vlans(self) -> dict[int, Vlan]:
        """Every VLAN, by number."""
        raise self.unsupported("vlans")

    def switchports(self) -> Interfaces[Switchport]:
        """Every switch port, by name."""
        raise self.unsupported("switchports")

    def mac_table(self) -> list[MacEntry]:
        """The MAC address table."""
        raise self.unsupported("mac_table")

    def routes(self) -> list[Route]:
        """The IPv4 routing table (the main one, not a VRF's)."""
        raise self.unsupported("routes")

    def ospf_neighbors(self) -> list[OspfNeighbor]:
        """The OSPF neighbours (one entry per adjacency: a router may be a neighbour on two links)."""
        raise self.unsupported("ospf_neighbors")

    def ospf_router_id(self) -> str | None:
        """The OSPF router id in use, None when OSPF is not configured."""
        raise self.unsupported("ospf_router_id")

    def ospf_interfaces(self) -> dict[str, OspfInterface]:
        """The interfaces OSPF runs on, by name ({} when OSPF is not configured)."""
        raise self.unsupported("ospf_interfaces")

    def running_config(self) -> str:
        """The running configuration, as text."""
        raise self.unsupported("running_config")

    # --- for subclasses -------------------------------------------------------------------------

    def unsupported(self, getter: str) -> NotSupported:
        return NotSupported(self.name, type(self).__name__, getter)

    def parse_error(self, command: str, detail: str) -> ParseError:
        return ParseError(self.name, type(self).__name__, command, one_line(detail))

    def refused(self, command: str, output: str) -> None:
        """Raise a ParseError if the device refused ``command`` (see :func:`cli_error`)."""
        error = cli_error(output)
        if error is not None:
            raise self.parse_error(command, f"the device refused it: {error}")

    @contextlib.contextmanager
    def parsing(self, command: str) -> Iterator[None]:
        """Within: reading ``command``'s output; what goes wrong becomes a ParseError."""
        try:
            yield
        except ProbeError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            detail = str(exc) if not isinstance(exc, KeyError) else f"missing field {exc}"
            raise self.parse_error(command, detail or type(exc).__name__) from exc

    def close(self) -> None:  # noqa: B027 - optional for drivers without a connection of their own
        """Release the driver's connection, if it has one."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HostDriver(Driver):
    """A driver whose commands run through a :class:`~tspcr_lab.host.Host` (``host.run``: time
    limits, evidence, masking), for devices that are Linux hosts: Linux itself, Open vSwitch
    (``ovs-vsctl -f json``)..."""

    def __init__(self, host):
        super().__init__(host.name)
        self.host = host

    def run(self, command: str) -> str:
        """Run ``command`` and return its standard output; a non-zero exit code is a ProbeError."""
        result = self.host.run(command)
        if result.rc != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ProbeError(f"{self.name}: `{command}` exited {result.rc}" + (f": {detail[-1]}" if detail else ""))
        return result.stdout
