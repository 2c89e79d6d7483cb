"""End-to-end fixtures: the real virtual lab (namespaces, overlay roots, sshd, dnsmasq), as root."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate
from tspcr_lab.virtual.lab import VirtualLab
from tspcr_lab.virtual import netns

INSTANCE = "e2e-ipplan"
SEED = 4242


# The longest modules, longest first (seconds in a CI run, on 2 cores): scheduled first, so that
# no long module starts last and runs alone at the end. make test runs xdist with --dist loadfile
# --no-loadscope-reorder: modules are handed out in this collection order (xdist would otherwise
# order them by their number of tests).
FIRST = ("test_troubleshoot_network.py",  # 656 s: a class's variants (7 trainees)
         "test_dhcp_dns.py",  # 459 s
         "test_wifi_security.py",  # 441 s: a VM in an emulated CPU
         "test_routing.py",  # 433 s
         "test_remote_support.py",
         "test_proxy.py",  # 294 s
         "test_real_stations.py",  # 227 s
         "test_troubleshoot_system.py",  # ~150 s
         )


def pytest_collection_modifyitems(config, items):
    # the same order on every xdist worker (sort is stable: tests keep their order in a module)
    rank = {name: index for index, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="end-to-end tests build the virtual lab and need root")
        for item in items:
            if "e2e" in str(item.path):
                item.add_marker(skip)


def cli(*args: str, check: bool = False, user: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real command line, as a newcomer would."""
    argv = [sys.executable, "-m", "tspcr_lab", *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"tspcr-lab {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def ip_plan():
    lab = load_lab("ip-plan")
    vlab = VirtualLab(lab, INSTANCE)
    vlab.down(quiet=True)
    cli("up", "ip-plan", "--instance", INSTANCE, "--seed", str(SEED), "--trainee", "Test Trainee", check=True)
    for pc in ("pc1", "pc2"):
        vlab.snapshot(pc, "untouched")
    yield vlab
    vlab.down(quiet=True)


@pytest.fixture(scope="session")
def solved(ip_plan):
    """Apply the solution once and keep the PCs' solved files as a snapshot to come back to."""
    cli("solve", "ip-plan", "--instance", INSTANCE, check=True)
    for pc in ("pc1", "pc2"):
        ip_plan.snapshot(pc, "solved")
    return ip_plan


class LabUnderTest:
    """One lab instance on the virtual lab, driven the way the e2e tests of every lab need:
    ``up`` through the real CLI, named snapshots of hosts' files, a trainee's hands on a host
    (:meth:`on`) and grading through the real CLI (:meth:`grade`)."""

    def __init__(self, lab_id: str, instance: str, seed: int, trainee: str = "Test Trainee"):
        self.lab_id, self.instance, self.seed, self.trainee = lab_id, instance, seed, trainee
        self.lab = load_lab(lab_id)
        self.vlab = VirtualLab(self.lab, instance)

    def up(self) -> "LabUnderTest":
        self.vlab.down(quiet=True)
        cli("up", self.lab_id, "--instance", self.instance, "--seed", str(self.seed), "--trainee", self.trainee, check=True)
        return self

    def up_with_snapshots(self, hosts=None) -> "LabUnderTest":
        """Up, then the snapshots every lab's tests start from: "untouched" and, after the
        lab's solution, "solved" (of ``hosts``, default all: the hosts the trainee works on)."""
        self.up()
        self.snapshot("untouched", hosts)
        self.cli("solve", check=True)
        self.snapshot("solved", hosts)
        return self

    # What grading may change in a host's writable layer: the logins' records (wtmp, btmp,
    # lastlog under var/log, which the first login creates), daemons' logs, run-time files.
    RUNTIME = ("var/log", "run/", "var/run", "tmp/")

    def files(self, hosts, also: tuple[str, ...] = (), exact: dict[str, tuple[str, ...]] | None = None) -> dict:
        """Every file of ``hosts``' writable layers (type, mode, owner, size, mtime, content),
        but the run-time ones (:attr:`RUNTIME`), those under the prefixes ``also`` and, per
        host, the paths of ``exact``: what grading must leave as it is."""
        exact = exact or {}
        skip = (*self.RUNTIME, *also)
        return {h: {path: digest for path, digest in tree_digest(self.vlab.host_dir(h) / "upper").items()
                    if path != "var" and not path.startswith(skip) and path not in exact.get(h, ())}
                for h in hosts}

    def down(self) -> None:
        """Down, and nothing of the instance left: no namespace of its (core, probe ports')."""
        self.vlab.down(quiet=True)
        core = self.vlab.core
        left = [n for n in netns.listing() if n == core or n.startswith(core + ".")]
        assert not left, f"down left namespaces behind: {left}"

    def cli(self, command: str, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return cli(command, self.lab_id, "--instance", self.instance, *args, check=check)

    def snapshot(self, name: str, hosts=None) -> None:
        for host in hosts or self.lab.hosts:
            self.vlab.snapshot(host, name)

    def restore(self, name: str, hosts=None) -> None:
        self.vlab.restore(list(hosts or self.lab.hosts), name)  # a radio VM's hosts: one restart

    def on(self, host: str, script: str) -> str:
        return on(self.vlab, host, script)

    @contextlib.contextmanager
    def altered(self, host: str, script: str | None = None):
        """For the block: ``host`` changed by ``script`` (the trainee's hands), or stopped dead
        without one (a crashed PC); rebooted after, from its files."""
        if script is None:
            crash(self.vlab, host)
        else:
            self.on(host, script)
        try:
            yield
        finally:
            self.vlab.reboot(host)

    def grade(self, tmp_path: Path, *extra: str) -> tuple[int, dict]:
        proc = self.cli("grade", "--out", str(tmp_path), *extra)
        assert (tmp_path / "results.json").is_file(), proc.stdout + proc.stderr
        return proc.returncode, json.loads((tmp_path / "results.json").read_text())


def restore(vlab: VirtualLab, name: str) -> None:
    for pc in ("pc1", "pc2"):
        vlab.restore(pc, name)


def crash(vlab: VirtualLab, host: str) -> None:
    """The host stops dead, as a crashed PC would (its PID 1 killed from outside): what the grader
    truly cannot observe. ``vlab.reboot(host)`` brings it back."""
    import psutil

    import time

    pid = vlab.host_state(host).pid
    os.kill(pid, 9)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # gone, or a zombie until its parent collects it
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)


def on(vlab: VirtualLab, host: str, script: str) -> str:
    """Run a shell script on a host through its console (the trainee's hands)."""
    proc = subprocess.run(vlab.console_argv(host, ["sh", "-ec", script]), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{host}: {script}\n{proc.stderr}"
    return proc.stdout


def grade(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    proc = cli("grade", "ip-plan", "--instance", INSTANCE, "--out", str(tmp_path), *extra)
    assert (tmp_path / "results.json").is_file(), proc.stdout + proc.stderr
    return proc.returncode, json.loads((tmp_path / "results.json").read_text())


def module_lab(lab_id: str, instance: str, seed: int, work):
    """The two module fixtures of a lab's e2e: ``lab`` (a :class:`LabUnderTest` up for the
    module, with its "untouched" and "solved" snapshots of the hosts in ``work``, down after)
    and ``expected`` (the seed's plan). In the module: ``lab, expected = module_lab(...)``."""

    @pytest.fixture(scope="module")
    def lab():
        under_test = LabUnderTest(lab_id, instance, seed).up_with_snapshots(list(work))
        yield under_test
        under_test.down()

    @pytest.fixture(scope="module")
    def expected(lab):
        return generate(lab.lab, seed).expected

    return lab, expected


def assert_variants_proven(lab_id: str, trainees: tuple[str, ...], tmp_path: Path, *, exam_seed: int = 2026,
                           copies: int = 1, timeout: float = 1500) -> dict:
    """``tspcr-lab variants LAB`` for a class of ``trainees`` (exam seed ``exam_seed``) whose sets
    cover the lab's whole catalogue: every proof ok, every fault proven, each proof's cases the
    injected state, each of its faults' workarounds in order, the reference repair; each set's
    difficulty within the catalogue's range. Returns the report."""
    from tspcr_lab.faults import load_catalogue

    class_file = tmp_path / "class.toml"
    class_file.write_text(f'[class]\nname = "e2e"\nseed = {exam_seed}\n' + "".join(
        f'[[trainees]]\nid = "{tid}"\nname = "Trainee {tid}"\n\n' for tid in trainees), encoding="utf-8")
    proc = cli("variants", lab_id, "--class", str(class_file), "--copies", str(copies), "--json", timeout=timeout)
    report = json.loads(proc.stdout)
    bad = {p["trainee"]: [c for c in p["cases"] if not c["ok"]] for p in report["proofs"] if not p["ok"]}
    assert proc.returncode == 0 and report["ok"], bad or proc.stderr
    catalogue = load_catalogue(load_lab(lab_id))
    assert {f for p in report["proofs"] for f in p["faults"]} == set(catalogue.faults)
    low, high = catalogue.difficulty
    for proof in report["proofs"]:
        assert [c["case"] for c in proof["cases"]] == [
            "injected", *(f"{f}/{w.id}" for f in proof["faults"] for w in catalogue.faults[f].workarounds), "repaired"]
        assert low <= proof["difficulty"] <= high
    return report


def assert_selftest_passes(lab_id: str, *extra: str) -> dict:
    """``tspcr-lab selftest LAB``: untouched fails, solution at the maximum, every fault of its
    faults.toml fails exactly its checks, every alternative keeps the maximum."""
    proc = cli("selftest", lab_id, "--json", *extra, timeout=1200)
    assert proc.stdout.strip(), proc.stderr
    report = json.loads(proc.stdout)
    bad = {o["case"]: o["problems"] for o in report["outcomes"] if not o["ok"]}
    assert proc.returncode == 0 and report["ok"] and not bad, bad or proc.stderr
    kinds = [o["kind"] for o in report["outcomes"]]
    assert kinds[:2] == ["untouched", "solution"] and kinds.count("fault") >= 5
    return report


def by_status(results: dict, status: str) -> set[str]:
    return {c["id"] for c in results["checks"] if c["status"] == status}


def tree_digest(path: Path) -> dict[str, str]:
    """Every file of a host's writable layer: type, mode, owner, size, mtime and content hash."""
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = Path(root) / name
            st = p.lstat()
            digest = ""
            if p.is_file() and not p.is_symlink():
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p.relative_to(path))] = f"{st.st_mode:o} {st.st_uid}:{st.st_gid} {st.st_size} {st.st_mtime_ns} {digest}"
    return out
