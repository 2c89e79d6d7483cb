"""Every lab's self-test passes: its untouched state fails, its solution scores the maximum, each
fault of its faults.toml fails exactly its checks (only its competency losing points) and each
alternative keeps the maximum. One module per lab would be the same: one test per lab, each its
own copies (``selftest-<lab>-<n>``), so xdist may run them side by side."""

from __future__ import annotations

import json

import pytest

from tspcr_lab.labfile import available_labs, load_cases, load_lab

from .conftest import cli

LABS = [name for name in available_labs() if load_cases(load_lab(name))]


@pytest.mark.parametrize("lab", LABS)
def test_selftest(lab):
    proc = cli("selftest", lab, "--json", timeout=1200)
    assert proc.stdout.strip(), proc.stderr
    report = json.loads(proc.stdout)
    bad = {o["case"]: o["problems"] for o in report["outcomes"] if not o["ok"]}
    assert proc.returncode == 0 and report["ok"] and not bad, bad or proc.stderr
    kinds = [o["kind"] for o in report["outcomes"]]
    assert kinds[:2] == ["untouched", "solution"] and kinds.count("fault") >= 5
