"""Provisioning with pyinfra's API: run a lab's deploy (``deploy.py``, ``solution.py``, a sample)
on the lab's hosts, virtual (``@tspcr`` console connector) or real (SSH, from an inventory).

pyinfra prepares operations host by host, so each deploy file is executed once per host with
pyinfra's context set, then the operations run in one batch. One :class:`pyinfra.api.State` is
used per call: a second ``run_ops`` on the same state would run the old operations again. A host
that fails to connect is dropped silently by pyinfra: it is reported here. So is what failed on a
host, from what pyinfra keeps of it: the first operation whose commands failed on that host (its
name, ``state.get_op_meta(hash).names``, and the output of its commands,
``state.ops[host][hash].operation_meta``), else what pyinfra logged for the host (a fact that
could not be loaded, a timeout).

Network devices of an inventory (hosts with ``device_type``: IOS, FRR, managed by their CLI) have
no Linux shell for pyinfra: :func:`apply_to_targets` skips them (``ProvisionResult.skipped``);
their starting state is a baseline configuration (:mod:`tspcr_lab.devices.baseline`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

from ..errors import TspcrError


class ProvisionError(TspcrError):
    """A deploy could not be applied (one line per problem: a host not reached, an operation that
    failed on a host, with the end of its error output)."""


@dataclasses.dataclass
class ProvisionResult:
    deploy: str
    hosts: list[str]
    unreachable: dict[str, str]
    failed: list[str]
    operations: int
    # failed host -> what failed there, on one line: 'operation "Create user alice" failed: useradd: ...'
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: list[str] = dataclasses.field(default_factory=list)  # network devices: not pyinfra's

    @property
    def ok(self) -> bool:
        return not self.unreachable and not self.failed

    def problems(self) -> list[str]:
        """One line per problem: a host not reached, a host where something failed."""
        problems = [f"{name}: unreachable ({why})" for name, why in self.unreachable.items()]
        problems += [f"{name}: {self.errors.get(name) or 'an operation failed'}" for name in self.failed]
        return problems


def failure_message(deploy_name: str, result: ProvisionResult) -> str | None:
    """``solution.py was not fully applied: pc1: operation "Create user alice" failed: useradd:
    group 'staff' does not exist``, one line per problem (None when there is none)."""
    return "\n".join(f"{deploy_name} was not fully applied: {problem}" for problem in result.problems()) or None


OUTPUT_LINES = 2  # last lines of a failed operation's error output shown
MAX_DETAIL = 400  # characters of it at most (its end: where the error is)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_PREFIX = re.compile(r"^\[(?P<host>[^\]]+)\]\s*(?:nested\s+)?")
_GENERIC = re.compile(r"^Error(?: \(ignored[^)]*\))?:? *(?:executed \d+ commands.*)?$")


def _clean(line: str) -> str:
    line = _ANSI.sub("", line)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in line).split())


def _tail(lines: list[str], count: int = OUTPUT_LINES) -> str:
    kept = [text for text in (_clean(line) for line in lines) if text][-count:]
    text = " / ".join(kept)
    return text if len(text) <= MAX_DETAIL else "..." + text[-(MAX_DETAIL - 3):]


def failure_text(operation: str | None, stderr: list[str], stdout: list[str], logged: list[str] = ()) -> str:
    """What failed on a host, on one line: the operation (None: something before any operation,
    such as a fact) and the last lines of its error output (else of its output, else of what
    pyinfra logged for the host)."""
    output = {_clean(line) for line in (*stderr, *stdout)}
    notes = [_clean(line) for line in logged]
    notes = [line for line in notes if line and line not in output and not _GENERIC.match(line)]
    if operation is None:  # pyinfra's own "Error: could not load fact: ...", then what the command said
        said = [line.removeprefix("Error:").strip() for line in notes if line.startswith("Error")]
        rest = _tail([line for line in notes if not line.startswith("Error")])
        return ": ".join(part for part in (said[-1] if said else "", rest) if part) or "failed"
    detail = _tail(stderr) or _tail(stdout) or _tail(notes)
    return f'operation "{_clean(operation)}" failed' + (f": {detail}" if detail else " (no error output)")


def _host_failure(state, host, logged: list[str]) -> str:
    """What failed on a failed host: the first operation that failed there, with its output."""
    for op_hash in state.get_op_order():
        op_data = state.ops.get(host, {}).get(op_hash)
        if op_data is None or op_data.global_arguments.get("_ignore_errors"):
            continue
        meta = op_data.operation_meta
        if meta.is_complete() and meta.did_error():
            name = ", ".join(sorted(state.get_op_meta(op_hash).names)) or "an operation"
            return failure_text(name, meta.stderr_lines, meta.stdout_lines, logged)
    return failure_text(None, [], [], logged)


def run_deploy(deploy_file: Path, inventory_hosts: list[tuple[str, dict[str, Any]]]) -> ProvisionResult:
    """Apply ``deploy_file`` to ``inventory_hosts`` ((pyinfra name, data) pairs) and say how it went."""
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.connect import connect_all, disconnect_all
    from pyinfra.api.exceptions import PyinfraError
    from pyinfra.api.operations import run_ops
    from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state

    if not deploy_file.is_file():
        raise ProvisionError(f"no deploy file {deploy_file}")
    code = compile(deploy_file.read_text(encoding="utf-8"), str(deploy_file), "exec")

    errors = _ErrorCollector()
    logger = logging.getLogger("pyinfra")
    logger.addHandler(errors)
    logger.propagate = False
    inventory = Inventory((inventory_hosts, {}))
    config = Config(CONNECT_TIMEOUT=5)
    state = State(inventory, config)
    state.current_deploy_filename = str(deploy_file)
    unreachable: dict[str, str] = {}
    try:
        with ctx_state.use(state), ctx_inventory.use(inventory), ctx_config.use(config):
            try:
                connect_all(state)
            except PyinfraError:
                pass  # "No hosts remaining!": every host is listed as unreachable below
            for host in inventory:
                if not host.connected:
                    unreachable[host.name] = errors.last_for(host.name) or "could not connect"
            for host in list(state.inventory.get_active_hosts()):
                with ctx_config.use(state.config.copy()), ctx_host.use(host):
                    try:
                        exec(code, {"__file__": str(deploy_file), "__name__": "__deploy__"})
                    except PyinfraError:
                        if host in state.failed_hosts:  # a fact failed there ("No hosts remaining!" after the last)
                            continue
                        raise
                    except Exception as exc:
                        raise ProvisionError(
                            f"{deploy_file}: failed while preparing {host.name}: {type(exc).__name__}: {exc}"
                        ) from None
            operations = len(state.get_op_order())
            if state.active_hosts:
                try:
                    run_ops(state)
                except PyinfraError as exc:
                    errors.messages.append(("", str(exc)))
            disconnect_all(state)
    finally:
        logger.removeHandler(errors)
    failed_hosts = sorted((h for h in state.failed_hosts if h.name not in unreachable), key=lambda h: h.name)
    return ProvisionResult(
        deploy=str(deploy_file),
        hosts=[h.name for h in inventory],
        unreachable=unreachable,
        failed=[h.name for h in failed_hosts],
        operations=operations,
        errors={h.name: _host_failure(state, h, errors.for_host(h.name)) for h in failed_hosts},
    )


def run_deploy_batches(deploy_file: Path, batches: list[list[tuple[str, dict[str, Any]]]],
                       processes: int) -> ProvisionResult:
    """Apply ``deploy_file`` to several batches of hosts (e.g. one per trainee), ``processes``
    batches at a time in forked processes, each with its own pyinfra State, and merge the results.

    pyinfra prepares operations host by host, gathering facts as it goes, so one State for a
    whole class spends most of its time waiting on one host after another; separate batches wait
    side by side."""
    import multiprocessing

    if len(batches) <= 1 or processes <= 1:
        return run_deploy(deploy_file, [h for batch in batches for h in batch])
    context = multiprocessing.get_context("fork")
    with context.Pool(min(processes, len(batches)), maxtasksperchild=1) as pool:
        parts = pool.starmap(_run_deploy_safe, [(deploy_file, batch) for batch in batches])
    merged = ProvisionResult(str(deploy_file), [], {}, [], 0)
    for part in parts:
        if isinstance(part, str):
            raise ProvisionError(part)
        merged.hosts += part.hosts
        merged.unreachable.update(part.unreachable)
        merged.failed += part.failed
        merged.operations += part.operations
        merged.errors.update(part.errors)
    return merged


def apply_to_targets(targets, deploy_file: Path, processes: int = 1) -> ProvisionResult:
    """Apply a deploy in one run to every target's hosts ((Target, LabParams) pairs), each host
    with its own trainee's parameters in its data (``lab_id``, ``lab_params``, ``lab_expected``, ``lab_role``);
    a host not reached or an operation that failed is a ProvisionError, one line per problem
    (which operation failed on which host, and the last lines of its error output). Network
    devices are skipped (their inventory names are in ``skipped``)."""
    from ..inventory import is_device

    batches, skipped = [], []
    for target, lab_params in targets:
        batch = []
        for name, (pyinfra_name, data) in target.provision_hosts.items():
            if is_device(data):
                skipped.append(pyinfra_name)
                continue
            batch.append((pyinfra_name, {**data, "lab_id": target.lab.id, "lab_params": lab_params.params,
                                         "lab_expected": lab_params.expected,
                                         "lab_role": target.lab.hosts[name].role}))
        if batch:
            batches.append(batch)
    if not batches:
        return ProvisionResult(str(deploy_file), [], {}, [], 0, skipped=skipped)
    result = run_deploy_batches(deploy_file, batches, processes=processes)
    result.skipped = skipped
    message = failure_message(deploy_file.name, result)
    if message:
        raise ProvisionError(message)
    _record_ledgers(targets, deploy_file)
    return result


def _record_ledgers(targets, deploy_file: Path) -> None:
    """A troubleshooting lab's deploy has just injected each trainee's faults: the state it left is
    recorded on the grader's side (see :mod:`tspcr_lab.ledger`), to tell a repair's collateral
    damage later. A solution or a sample applied afterwards records nothing."""
    from .. import ledger
    from ..faults import load_catalogue

    for target, lab_params in targets:
        if deploy_file != target.lab.deploy_file or target.state_dir is None or load_catalogue(target.lab) is None:
            continue
        try:
            ledger.record(target, lab_params, list(lab_params.expected.get("faults") or []))
        except TspcrError as exc:
            raise ProvisionError(f"{target.name}: the fault ledger could not be recorded: {exc}") from None


def _run_deploy_safe(deploy_file: Path, hosts: list[tuple[str, dict[str, Any]]]) -> ProvisionResult | str:
    try:
        return run_deploy(deploy_file, hosts)
    except TspcrError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - carried back to the parent as one line
        return f"{deploy_file.name}: {type(exc).__name__}: {exc}"


class _ErrorCollector(logging.Handler):
    """Keeps pyinfra's error messages so that they can be reported per host."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((getattr(record, "host", ""), record.getMessage()))

    def last_for(self, name: str) -> str | None:
        for _, message in reversed(self.messages):
            if name in message:
                return message.strip().splitlines()[-1]
        return None

    def for_host(self, name: str) -> list[str]:
        """What pyinfra logged for a host (its lines start with ``[name]``), prefix removed."""
        out = []
        for _, message in self.messages:
            for line in _ANSI.sub("", message).splitlines():
                match = _PREFIX.match(line.strip())
                if match and match.group("host").strip() == name:
                    out.append(line.strip()[match.end():])
        return out
