"""A deploy that fails says which operation failed on which host, with its error output.

The formatting is tested on its own; then real deploys run through pyinfra on its ``@local``
connector (this machine): their commands only echo and exit, nothing is changed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tspcr_lab.provision import (
    MAX_DETAIL,
    ProvisionError,
    ProvisionResult,
    apply_to_targets,
    failure_message,
    failure_text,
    run_deploy,
)


# -- formatting ------------------------------------------------------------------------------------

def test_an_operation_with_the_last_lines_of_its_stderr():
    text = failure_text("Create user alice", ["useradd: warning", "", "useradd: group 'staff' does not exist"],
                        ["creating alice"])
    assert text == ('operation "Create user alice" failed: useradd: warning / '
                    "useradd: group 'staff' does not exist")
    many = failure_text("apt", [f"line {i}" for i in range(10)], [])
    assert many == 'operation "apt" failed: line 8 / line 9'


def test_without_stderr_its_stdout_then_what_pyinfra_logged():
    assert failure_text("Check", [], ["not ready"]) == 'operation "Check" failed: not ready'
    logged = ["Error: executed 0 commands", "Command timed out after 10s"]
    assert failure_text("Wait", [], [], logged) == 'operation "Wait" failed: Command timed out after 10s'
    assert failure_text("Quiet", [], [], ["Error: executed 0 commands"]) == 'operation "Quiet" failed (no error output)'


def test_a_failure_before_any_operation():
    logged = ["sh: 1: getent: not found", "Error: could not load fact: server.Users"]
    assert failure_text(None, [], [], logged) == "could not load fact: server.Users: sh: 1: getent: not found"
    assert failure_text(None, [], [], []) == "failed"


def test_output_is_one_line_without_terminal_codes_and_bounded():
    text = failure_text("Colours", ["\x1b[31mred\x1b[0m error\r", "tab\there\x07"], [])
    assert text == 'operation "Colours" failed: red error / tab here'
    long = failure_text("Long", ["x" * 5000 + " the end"], [])
    assert long.endswith(" the end") and len(long) < MAX_DETAIL + 40 and "\n" not in long


def test_one_line_per_problem():
    result = ProvisionResult("solution.py", ["pc1", "pc2", "srv1"], {"srv1": "could not connect"}, ["pc1", "pc2"], 4,
                             {"pc1": "operation \"Create user alice\" failed: useradd: group 'staff' does not exist"})
    assert failure_message("solution.py", result).splitlines() == [
        "solution.py was not fully applied: srv1: unreachable (could not connect)",
        "solution.py was not fully applied: pc1: operation \"Create user alice\" failed: "
        "useradd: group 'staff' does not exist",
        "solution.py was not fully applied: pc2: an operation failed",  # nothing known of it
    ]
    assert failure_message("solution.py", ProvisionResult("solution.py", ["pc1"], {}, [], 3)) is None


# -- real deploys on pyinfra's @local host ---------------------------------------------------------

BOOM = '''
from pyinfra.operations import server

server.shell(name="fine", commands=["true"])
server.shell(name="ignored", commands=["echo ignored >&2; exit 1"], _ignore_errors=True)
server.shell(name="boom", commands=["echo working; echo oops >&2; exit 3"])
server.shell(name="never", commands=["echo never"])
'''


def test_a_failed_operation_on_a_real_host(tmp_path):
    deploy = tmp_path / "solution.py"
    deploy.write_text(BOOM, encoding="utf-8")
    result = run_deploy(deploy, [("@local", {})])
    assert (result.failed, result.unreachable) == (["@local"], {})
    assert result.errors == {"@local": 'operation "boom" failed: oops'}
    assert failure_message(deploy.name, result) == 'solution.py was not fully applied: @local: operation "boom" failed: oops'


def test_apply_to_targets_raises_it(tmp_path):
    deploy = tmp_path / "solution.py"
    deploy.write_text(BOOM, encoding="utf-8")
    lab = SimpleNamespace(id="fake", hosts={"pc1": SimpleNamespace(role="pc")})
    target = SimpleNamespace(lab=lab, provision_hosts={"pc1": ("@local", {})})
    with pytest.raises(ProvisionError) as info:
        apply_to_targets([(target, SimpleNamespace(params={}, expected={}))], deploy)
    assert str(info.value) == 'solution.py was not fully applied: @local: operation "boom" failed: oops'


def test_a_fact_that_cannot_be_loaded_on_a_real_host(tmp_path):
    deploy = tmp_path / "deploy.py"
    deploy.write_text('from pyinfra import host\nfrom pyinfra.facts.server import Command\n'
                      'host.get_fact(Command, "echo no such thing >&2; exit 4")\n', encoding="utf-8")
    result = run_deploy(deploy, [("@local", {})])  # its only host failed: no "No hosts remaining!" escapes
    assert result.failed == ["@local"]
    assert result.errors["@local"].startswith("could not load fact: server.Command")
    assert result.errors["@local"].endswith(": no such thing")
