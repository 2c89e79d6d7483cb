"""Provisioning with pyinfra's API: run a lab's deploy (``deploy.py``, ``solution.py``, a sample)
on the lab's hosts, virtual (``@tspcr`` console connector) or real (SSH, from an inventory).

pyinfra prepares operations host by host, so each deploy file is executed once per host with
pyinfra's context set, then the operations run in one batch. One :class:`pyinfra.api.State` is
used per call: a second ``run_ops`` on the same state would run the old operations again. A host
that fails to connect is dropped silently by pyinfra: it is reported here.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from ..errors import TspcrError


class ProvisionError(TspcrError):
    """A deploy could not be applied (reported on one line)."""


@dataclasses.dataclass
class ProvisionResult:
    deploy: str
    hosts: list[str]
    unreachable: dict[str, str]
    failed: list[str]
    operations: int

    @property
    def ok(self) -> bool:
        return not self.unreachable and not self.failed


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
            for host in state.inventory.get_active_hosts():
                with ctx_config.use(state.config.copy()), ctx_host.use(host):
                    try:
                        exec(code, {"__file__": str(deploy_file), "__name__": "__deploy__"})
                    except PyinfraError:
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
    failed = sorted(h.name for h in state.failed_hosts if h.name not in unreachable)
    return ProvisionResult(
        deploy=str(deploy_file),
        hosts=[h.name for h in inventory],
        unreachable=unreachable,
        failed=failed,
        operations=operations,
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
    return merged


def apply_to_targets(targets, deploy_file: Path, processes: int = 1) -> ProvisionResult:
    """Apply a deploy in one run to every target's hosts ((Target, LabParams) pairs), each host
    with its own trainee's parameters in its data (``lab_params``, ``lab_expected``, ``lab_role``);
    a host not reached or an operation that failed is a ProvisionError, on one line."""
    batches = []
    for target, lab_params in targets:
        batches.append([
            (pyinfra_name, {**data, "lab_params": lab_params.params, "lab_expected": lab_params.expected,
                            "lab_role": target.lab.hosts[name].role})
            for name, (pyinfra_name, data) in target.provision_hosts.items()
        ])
    result = run_deploy_batches(deploy_file, batches, processes=processes)
    problems = [f"{name}: unreachable ({why})" for name, why in result.unreachable.items()]
    problems += [f"{name}: an operation failed" for name in result.failed]
    if problems:
        raise ProvisionError(f"{deploy_file.name} was not fully applied: {'; '.join(problems)}")
    return result


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
