"""Baseline configurations of network devices: a lab's starting state on real IOS or FRR gear,
pushed with netmiko, and a reset to exactly that baseline between two candidates.

A lab folder may hold one baseline per device, ``labs/<lab>/baseline/<host>.cfg``: an IOS-style
configuration, written as the device's ``show running-config`` shows it (blocks by indentation:
``interface``, ``router ospf``...), without what every running configuration shows and no
baseline holds (:attr:`Dialect.ignored`: ``frr version``, ``Current configuration``, ``!``...).
Placeholders ``{{ params.x }}`` / ``{{ expected.x.y }}`` are filled from the trainee's seeded
parameters (the lab's ``params.py``), as in ``faults.toml``.

* :func:`push` sends what the device lacks of its baseline (``configure``: a refused line is an
  error), then reads the running configuration again: every baseline line must be there.
* :func:`reset` reads ``show running-config``, computes what differs from the baseline
  (:func:`differences`, block by block), turns it into configuration lines (:func:`plan`: a line
  the baseline does not hold becomes ``no ...`` in its block, a missing one is added; a value
  such as ``hostname`` or ``description`` is replaced, not removed first), sends them, and reads
  the running configuration again: it must equal the baseline, else :class:`BaselineError` names
  the lines that still differ. ``save`` then writes it (``write memory``).

What differs between IOS and FRR is kept in one :class:`Dialect` per driver (:data:`DIALECTS`),
never in the algorithm: lines to ignore, how a block ends, which blocks cannot be removed whole
(an FRR ``interface`` of a kernel interface: its lines are removed one by one), how a ``no ...``
line of the running configuration is undone (FRR: the positive command; IOS: ``default ...``),
which commands take no argument once negated (``no description``). Which CLI answers are
refusals (FRR's ``% Configuration failed.`` as well as the IOS-like ones) is the driver's
(:meth:`~.ios.IosDriver.refusal`).

Not handled: multi-line banners (``banner motd ^C...^C``) and certificates (``crypto pki``).
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import ProbeError, TspcrError, UserError, hide
from ..labfile import PLACEHOLDER_RE, Lab, placeholder_value

__all__ = ["DIALECTS", "BaselineError", "Config", "Difference", "Dialect", "Outcome", "baseline_file",
           "differences", "load_baseline", "parse", "plan", "push", "render", "reset", "shown", "Step"]


class BaselineError(TspcrError):
    """A baseline could not be applied: a line the device refused, or a device that does not
    match its baseline after a push or a reset (the message names the lines)."""


@dataclasses.dataclass(frozen=True)
class Dialect:
    """What one driver's configuration language needs of the algorithm."""

    name: str
    # lines every running configuration shows and no baseline holds (matched on the stripped line)
    ignored: tuple[re.Pattern, ...]
    # lines that only close a block (or the configuration)
    terminators: frozenset[str] = frozenset({"exit", "end", "!"})
    # blocks that cannot be removed whole: their lines are removed one by one
    cleared_blocks: tuple[str, ...] = ()
    # commands whose negation takes no argument: "no description", "no hostname"
    bare_negation: tuple[str, ...] = ("description", "hostname")
    # commands with one value: a new value replaces the old one (no removal first)
    single_valued: tuple[str, ...] = ("hostname", "description")
    # a running "no X" that the baseline does not hold is undone by: "{}" -> "X", "default {}"
    undo_no: str = "{}"
    # commands whose change makes a new prompt (the session is opened again after them)
    prompt_changing: tuple[str, ...] = ("hostname", "no hostname")
    # a block's closing command, by the start of its header
    block_exits: tuple[tuple[str, str], ...] = (("address-family", "exit-address-family"),)

    def ignores(self, line: str) -> bool:
        return line in self.terminators or line.startswith("!") or any(p.match(line) for p in self.ignored)

    def exit_for(self, header: str) -> str:
        return next((command for start, command in self.block_exits if header.startswith(start)), "exit")

    def negate(self, line: str) -> str:
        if line.startswith("no "):
            return self.undo_no.format(line[3:])
        bare = _command(line, self.bare_negation)
        return f"no {bare or line}"

    def cleared(self, header: str) -> bool:
        return any(header.startswith(start) for start in self.cleared_blocks)


def _command(line: str, commands: tuple[str, ...]) -> str | None:
    """The longest of ``commands`` that ``line`` starts with (whole words), else None."""
    found = [c for c in commands if line == c or line.startswith(c + " ")]
    return max(found, key=len) if found else None


FRR = Dialect(
    name="frr",
    ignored=tuple(re.compile(p) for p in (
        r"Building configuration\.\.\.$", r"Current configuration:?$", r"frr version ", r"frr defaults ",
        # always there with the integrated configuration this project uses (write memory needs it)
        r"service integrated-vtysh-config$",
        # vtysh 8.4 keeps "hostname X" typed in a session to that session (measured: the next
        # login shows the daemons' host name again, the one frr.conf gave them at start; netmiko's
        # prompt changes meanwhile): not a setting a reset can bring back, nor a candidate leave
        r"hostname ",
    )),
    terminators=frozenset({"exit", "end", "!", "exit-address-family", "exit-vrf"}),
    # an interface the kernel has cannot be deleted ("only inactive interfaces can be deleted")
    cleared_blocks=("interface ",),
    single_valued=("hostname", "description", "ospf router-id", "router-id", "ip ospf cost",
                   "ip ospf hello-interval", "ip ospf dead-interval", "ip ospf priority", "ip ospf network",
                   "bandwidth", "mtu"),
    undo_no="{}",
)

IOS = Dialect(
    name="ios",
    ignored=tuple(re.compile(p) for p in (
        r"Building configuration\.\.\.$", r"Current configuration : \d+ bytes$", r"version \S+$",
        r"ntp clock-period ", r"boot-start-marker$", r"boot-end-marker$", r"license udi ",
    )),
    single_valued=("hostname", "description", "ip ospf cost", "ip ospf hello-interval", "ip ospf dead-interval",
                   "ip ospf priority", "ip ospf network", "router-id", "bandwidth", "mtu", "speed", "duplex",
                   "switchport mode", "switchport access vlan", "switchport trunk native vlan",
                   "switchport trunk allowed vlan"),
    terminators=frozenset({"exit", "end", "!", "exit-address-family"}),
    undo_no="default {}",
    block_exits=(),
)

DIALECTS = {"frr": FRR, "cisco_ios": IOS}


def dialect_of(driver) -> Dialect:
    try:
        return DIALECTS[driver.platform]
    except KeyError:
        raise UserError(f"{driver.name}: no baseline support for {type(driver).__name__}") from None


# --- a configuration as a tree --------------------------------------------------------------------


@dataclasses.dataclass
class Node:
    """A line and the lines of its block (``children``, by their text, in order). ``block``: the
    line opens a block even when it holds nothing (``router ospf`` then ``exit``)."""

    children: dict[str, "Node"] = dataclasses.field(default_factory=dict)
    block: bool = False


Config = dict[str, Node]


def parse(text: str, dialect: Dialect) -> Config:
    """A configuration's lines as a tree, by indentation; spaces inside a line are collapsed,
    and the lines the dialect ignores dropped."""
    root: Config = {}
    stack: list[tuple[int, Config, Node | None]] = [(-1, root, None)]  # (indent, children, node)
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        indent = len(raw) - len(raw.lstrip())
        closed = None
        while stack[-1][0] >= indent:
            popped = stack.pop()
            if popped[0] == indent:
                closed = popped[2]
        if dialect.ignores(line):
            if line in dialect.terminators and line not in ("!", "end") and closed is not None:
                closed.block = True  # "router ospf" then "exit": a block, even empty
            continue
        children = stack[-1][1]
        node = children.setdefault(line, Node())
        if stack[-1][2] is not None:
            stack[-1][2].block = True
        stack.append((indent, node.children, node))
    return root


@dataclasses.dataclass(frozen=True)
class Difference:
    """A line that differs: ``extra`` (in the running configuration, not in the baseline) or
    ``missing``; ``path``: the headers of the blocks it is in; ``node``: its block."""

    kind: str
    path: tuple[str, ...]
    line: str
    node: Node = dataclasses.field(compare=False, repr=False)

    def __str__(self) -> str:
        return ("+ " if self.kind == "missing" else "- ") + " > ".join((*self.path, self.line))


def differences(running: Config, baseline: Config, path: tuple[str, ...] = ()) -> list[Difference]:
    """What differs from the baseline, block by block: the running configuration's lines that the
    baseline has not (``extra``) and the baseline's lines that it lacks (``missing``)."""
    found = []
    for line, node in running.items():
        if line not in baseline:
            found.append(Difference("extra", path, line, node))
        else:
            found += differences(node.children, baseline[line].children, (*path, line))
    for line, node in baseline.items():
        if line not in running:
            found.append(Difference("missing", path, line, node))
    return found


@dataclasses.dataclass(frozen=True)
class Step:
    """A configuration line to type in the block ``path`` (its headers); ``line`` None only
    enters the block (an empty one added); ``kind``: ``"remove"`` or ``"add"``."""

    path: tuple[str, ...]
    line: str | None
    kind: str


def plan(found: list[Difference], dialect: Dialect) -> list[Step]:
    """The steps that remove the extra lines, then add the missing ones."""
    missing = {(d.path, _command(d.line, dialect.single_valued)) for d in found if d.kind == "missing"}
    removals, additions = [], []
    for d in found:
        if d.kind == "extra":
            single = _command(d.line, dialect.single_valued)
            if single is not None and (d.path, single) in missing:
                continue  # replaced by its new value below
            if dialect.cleared(d.line):
                removals += [Step((*d.path, d.line), dialect.negate(line), "remove") for line in d.node.children]
            else:
                removals.append(Step(d.path, dialect.negate(d.line), "remove"))
        else:
            additions += _add(d.line, d.node, d.path)
    return removals + additions


def _add(line: str, node: Node, path: tuple[str, ...]) -> list[Step]:
    if not node.children:
        return [Step((*path, line), None, "add")] if node.block else [Step(path, line, "add")]
    steps = []
    for child, sub in node.children.items():
        steps += _add(child, sub, (*path, line))
    return steps


def render(steps: list[Step], dialect: Dialect) -> list[str]:
    """The lines to type: each step's block entered (its headers) and left (``exit``) as needed."""
    lines: list[str] = []
    current: tuple[str, ...] = ()
    for step in steps:
        while current != step.path[:len(current)]:
            lines.append(dialect.exit_for(current[-1]))
            current = current[:-1]
        while len(current) < len(step.path):
            current = step.path[:len(current) + 1]
            lines.append(current[-1])
        if step.line is not None:
            lines.append(step.line)
    while current:
        lines.append(dialect.exit_for(current[-1]))
        current = current[:-1]
    return lines


def shown(steps: list[Step]) -> list[str]:
    """Steps as a person reads them: each line indented under its block's headers."""
    lines: list[str] = []
    current: tuple[str, ...] = ()
    for step in steps:
        common = 0
        while common < min(len(step.path), len(current)) and step.path[common] == current[common]:
            common += 1
        for depth in range(common, len(step.path)):
            lines.append(" " * depth + step.path[depth])
        current = step.path
        if step.line is not None:
            lines.append(" " * len(step.path) + step.line)
    return lines


# --- a lab's baselines ------------------------------------------------------------------------------


def baseline_file(lab: Lab, host: str) -> Path:
    return lab.path / "baseline" / f"{host}.cfg"


def baseline_hosts(lab: Lab) -> list[str]:
    """The lab's hosts that have a baseline; a baseline for a host the lab has not is an error."""
    folder = lab.path / "baseline"
    files = sorted(folder.glob("*.cfg")) if folder.is_dir() else []
    for file in files:
        if file.stem not in lab.hosts:
            raise UserError(f"{file}: lab {lab.id} has no host {file.stem} (hosts: {', '.join(lab.hosts)})")
    return [file.stem for file in files]


def load_baseline(lab: Lab, host: str, values: dict[str, Any]) -> str:
    """Host ``host``'s baseline with its placeholders filled from ``values`` (``{"params": ...,
    "expected": ...}``); an unknown value is a UserError naming the file and the line."""
    file = baseline_file(lab, host)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{file}: cannot read the baseline: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{file}: the baseline is not UTF-8 text") from None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        def value(match: re.Match) -> str:
            if match.group(3):
                raise UserError(f"{file}: line {number}: '| quote' is for shell scripts, not a configuration")
            try:
                found = placeholder_value(values, match)
            except KeyError:
                raise UserError(f"{file}: line {number}: no value {match.group(1)}{match.group(2)}") from None
            if isinstance(found, (dict, list)):
                raise UserError(f"{file}: line {number}: {match.group(1)}{match.group(2)} is not a single value")
            return str(found)

        lines.append(PLACEHOLDER_RE.sub(value, line))
    return "\n".join(lines) + "\n"


# --- on a device -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What :func:`push` or :func:`reset` did on one device: ``steps`` (see :func:`plan`), sent
    unless ``dry_run``; ``seconds`` in all, ``saved`` whether ``write memory`` ran."""

    host: str
    action: str  # "push" or "reset"
    steps: list[Step]
    seconds: float = 0.0
    saved: bool = False
    dry_run: bool = False

    @property
    def removed(self) -> int:
        return sum(1 for step in self.steps if step.kind == "remove")

    @property
    def added(self) -> int:
        return sum(1 for step in self.steps if step.kind == "add")


def push(connect: Callable[[], Any], text: str, *, save: bool = False, dry_run: bool = False,
         secrets: tuple[str, ...] = ()) -> Outcome:
    """Send the baseline ``text`` lines that the device lacks, then check that it holds them all."""
    return _apply(connect, text, "push", save=save, dry_run=dry_run, secrets=secrets)


def reset(connect: Callable[[], Any], text: str, *, save: bool = False, dry_run: bool = False,
          secrets: tuple[str, ...] = ()) -> Outcome:
    """Bring the device back to exactly the baseline ``text``, then check that it equals it."""
    return _apply(connect, text, "reset", save=save, dry_run=dry_run, secrets=secrets)


def _apply(connect: Callable[[], Any], text: str, action: str, *, save: bool, dry_run: bool,
           secrets: tuple[str, ...]) -> Outcome:
    """``connect()`` opens a new session (a driver): once, and again after a change of prompt
    (netmiko waits for the prompt it saw at login)."""
    t0 = time.monotonic()
    driver = connect()
    try:
        dialect = dialect_of(driver)
        baseline = parse(text, dialect)
        found = _compare(driver, baseline, dialect, action)
        steps = plan(found, dialect)
        outcome = Outcome(driver.name, action, steps, dry_run=dry_run)
        if dry_run or not steps:
            if save and not dry_run:
                _save(driver, secrets)
                outcome.saved = True
            outcome.seconds = time.monotonic() - t0
            return outcome
        lines = render(steps, dialect)
        _configure(driver, lines, secrets)
        if any(_command(line, dialect.prompt_changing) for line in lines):
            driver.close()
            driver = connect()
        left = _compare(driver, baseline, dialect, action)
        if left:
            verb = "reset" if action == "reset" else "push"
            raise BaselineError(hide(f"{driver.name}: the {verb} did not converge: the running configuration still "
                                     f"differs from the baseline: " + "; ".join(str(d) for d in left), secrets))
        if save:
            _save(driver, secrets)
            outcome.saved = True
        outcome.seconds = time.monotonic() - t0
        return outcome
    finally:
        driver.close()


def _compare(driver, baseline: Config, dialect: Dialect, action: str) -> list[Difference]:
    found = differences(parse(driver.running_config(), dialect), baseline)
    return found if action == "reset" else [d for d in found if d.kind == "missing"]


def _configure(driver, lines: list[str], secrets: tuple[str, ...]) -> None:
    """``driver.configure(lines)``: a line the device refuses (the driver knows its refusals, FRR's
    ``% Configuration failed.`` among them) is a BaselineError naming the line typed."""
    try:
        driver.configure(lines, secrets=secrets)
    except ProbeError as exc:
        raise BaselineError(str(exc)) from None


def _save(driver, secrets: tuple[str, ...]) -> None:
    output = driver.show("write memory")
    if any(driver.refusal(line) for line in output.splitlines()):
        raise BaselineError(hide(f"{driver.name}: write memory failed: {' '.join(output.split())}", secrets))
