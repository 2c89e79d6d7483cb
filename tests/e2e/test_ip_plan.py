"""ip-plan end to end, on the real virtual lab: untouched, solved, each point broken alone,
an unreachable host, hostile strings, read-only grading, reboots and isolation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate

from .conftest import INSTANCE, SEED, assert_selftest_passes, by_status, cli, crash, grade, on, restore, tree_digest

EXPECTED = generate(load_lab("ip-plan"), SEED).expected
ALL_CHECKS = {
    "test_address[pc1]", "test_address[pc2]", "test_gateway[pc1]", "test_gateway[pc2]",
    "test_persistent[pc1]", "test_persistent[pc2]", "test_reachable_from_router[pc1]",
    "test_reachable_from_router[pc2]", "test_hostname[pc1]", "test_hostname[pc2]",
    "test_dns_server[pc1]", "test_dns_server[pc2]", "test_mac_file", "test_reaches_server_by_name",
}


def test_untouched_lab_fails_with_clear_messages(ip_plan, tmp_path):
    restore(ip_plan, "untouched")
    code, results = grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == ALL_CHECKS
    assert results["score"] == 0 and results["complete"] is True
    messages = {c["id"]: c["message"] for c in results["checks"]}
    pc1 = EXPECTED["pcs"]["pc1"]
    assert messages["test_hostname[pc1]"] == f"nom d'hôte de pc1 : attendu {pc1['hostname']}, trouvé debian"
    assert messages["test_address[pc1]"] == f"adresse IPv4 de eth0 sur pc1 : attendu {pc1['address']}, trouvé rien"
    assert "n'existe pas" in messages["test_mac_file"]
    assert all(c["hint"] for c in results["checks"]), "every failed check of ip-plan has a hint"


def test_solved_lab_gets_the_maximum(solved, tmp_path):
    restore(solved, "solved")
    code, results = grade(tmp_path)
    assert code == 0, results
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == 17
    assert results["complete"] is True
    assert results["competencies"] == {
        "007": {"earned": 7.0, "max": 7.0, "mastered": True, "complete": True, "critical_failed": False},
        "030": {"earned": 10.0, "max": 10.0, "mastered": True, "complete": True, "critical_failed": False},
    }
    assert results["trainee"] == "Test Trainee" and results["lab"] == "ip-plan"
    check = results["checks"][0]
    assert set(check) >= {"id", "competency", "points", "earned", "status", "message"}
    assert check["evidence"] and {"host", "command", "rc", "stdout", "time"} <= set(check["evidence"][0])
    html = (tmp_path / "report.html").read_text()
    assert "Planifier et configurer l’IP" in html and "Test Trainee" in html and "17 / 17" in html


def test_solution_survives_reboot(solved, tmp_path):
    restore(solved, "solved")
    for host in ("pc1", "pc2", "r1", "srv1"):
        cli("reboot", host, "--instance", INSTANCE, check=True)
    code, results = grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


PC1, PC2 = EXPECTED["pcs"]["pc1"], EXPECTED["pcs"]["pc2"]


def test_sample_partial_work(ip_plan, tmp_path):
    restore(ip_plan, "untouched")
    cli("solve", "ip-plan", "--instance", INSTANCE, "--sample", "partial", check=True)
    code, results = grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == {
        "test_persistent[pc1]", "test_mac_file", "test_address[pc2]", "test_persistent[pc2]", "test_dns_server[pc2]",
    }
    assert 0 < results["score"] < results["max_score"]


def test_a_host_that_is_not_running_gives_errors_and_an_incomplete_grade(solved, tmp_path):
    restore(solved, "solved")
    crash(solved, "pc2")
    try:
        code, results = grade(tmp_path)
    finally:
        solved.reboot("pc2")
    assert code == 3
    assert results["complete"] is False
    errors = by_status(results, "error")
    assert {c for c in errors if not c.endswith("[pc2]")} == set()
    assert {"test_address[pc2]", "test_hostname[pc2]", "test_reachable_from_router[pc2]"} <= errors
    assert by_status(results, "failed") == set()
    assert len(results["checks"]) == len(ALL_CHECKS), "no result is lost"
    assert all("pc2" in c["message"] for c in results["checks"] if c["status"] == "error")
    html = (tmp_path / "report.html").read_text()
    assert "incomplete" in html.lower() or "incomplète" in html
    assert html.count("col-testId") >= len(ALL_CHECKS)


def test_the_trainee_cannot_cut_the_grader_off(solved, tmp_path):
    """mgmt0 down, sshd stopped, root's shell start-up files broken: checks still read pc2 through
    its console, so they are judged (the solved lab keeps its maximum), never turned into errors."""
    restore(solved, "solved")
    on(solved, "pc2", "ip link set mgmt0 down; service ssh stop; echo 'exit 7' >> /root/.profile; "
                      "echo 'exit 7' >> /root/.bashrc")
    try:
        assert cli("exec", "pc2", "--instance", INSTANCE, "--", "hostname").stdout.strip() == PC2["hostname"]
        code, results = grade(tmp_path)
    finally:
        restore(solved, "solved")
    assert code == 0 and results["complete"] is True, by_status(results, "error") | by_status(results, "failed")


HOSTILE = "<img src=x onerror=alert(1)>"


def test_hostile_strings_are_escaped_in_the_report(solved, tmp_path):
    restore(solved, "solved")
    on(solved, "pc1", f"printf '%s\\n' '{HOSTILE}' > /etc/hostname; printf '%s\\n' '{HOSTILE}' > {EXPECTED['mac_file']}")
    code, results = grade(tmp_path, "--trainee", "<script>alert(2)</script>")
    assert code == 1
    assert HOSTILE in json.dumps(results, ensure_ascii=False)
    html = (tmp_path / "report.html").read_text()
    assert HOSTILE not in html and "<script>alert(2)" not in html
    assert "&lt;script&gt;alert(2)" in html


def test_grading_leaves_the_hosts_files_unchanged(solved, tmp_path):
    restore(solved, "solved")
    before = {h: tree_digest(solved.host_dir(h) / "upper") for h in ("pc1", "pc2", "r1", "srv1")}
    code, _ = grade(tmp_path)
    after = {h: tree_digest(solved.host_dir(h) / "upper") for h in ("pc1", "pc2", "r1", "srv1")}
    assert code == 0
    assert before == after


def test_reboot_drops_runtime_state_and_keeps_files(solved):
    restore(solved, "solved")
    on(solved, "pc1", "ip addr add 192.0.2.77/32 dev eth0; echo kept > /root/note.txt")
    cli("reboot", "pc1", "--instance", INSTANCE, check=True)
    addresses = on(solved, "pc1", "ip -br addr show dev eth0")
    assert "192.0.2.77" not in addresses and PC1["address"] in addresses
    assert on(solved, "pc1", "cat /root/note.txt").strip() == "kept"


def test_hosts_are_isolated_systems(solved):
    restore(solved, "solved")
    on(solved, "pc1", "useradd -M trainee1; echo secret > /root/only-on-pc1")
    assert "trainee1" not in on(solved, "pc2", "getent passwd || true")
    assert on(solved, "pc2", "test -e /root/only-on-pc1 && echo yes || echo no").strip() == "no"
    import os
    import pwd

    with pytest.raises(KeyError):
        pwd.getpwnam("trainee1")
    assert not os.path.exists("/root/only-on-pc1")
    # PID namespace: pc1 sees only its own processes; UTS: its own name.
    assert on(solved, "pc1", "cat /proc/1/comm").strip() == "tini"
    assert on(solved, "pc2", "hostname").strip() == PC2["hostname"]


def test_lab_traffic_cannot_leave_the_lab(solved):
    """Shown from routing decisions, without sending anything to an address outside the lab."""
    restore(solved, "solved")
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        forwarding_before = f.read()
    # The router, the only host that forwards, has no route out of the lab.
    out = on(solved, "r1", "ip route get 192.0.2.1 2>&1 || true")
    assert "unreachable" in out.lower(), out
    # The core namespace (switches, grader side of mgmt) forwards nothing and knows only its hosts.
    core = solved.core
    forwarding = subprocess.run(["ip", "netns", "exec", core, "sysctl", "-n", "net.ipv4.ip_forward"],
                                capture_output=True, text=True).stdout.strip()
    assert forwarding == "0"
    routes = json.loads(subprocess.run(["ip", "-n", core, "-j", "route"], capture_output=True, text=True).stdout)
    assert routes and all(r["dst"].startswith("172.31.0.") and "gateway" not in r for r in routes), routes
    # Hosts do not reach each other through the management network (pc2's mgmt address is in the lab).
    out = on(solved, "pc1", "ping -c1 -W1 -I mgmt0 172.31.0.12 >/dev/null 2>&1 && echo reached || echo blocked")
    assert out.strip() == "blocked", "hosts must not reach each other through the management network"
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == forwarding_before  # the machine's own forwarding setting is never touched


def test_pytest_directly_with_xdist_gives_the_same_results(solved, tmp_path):
    restore(solved, "solved")
    results = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "checks/ip-plan", "-p", "no:cacheprovider", "-q", "-n", "2",
         "--instance", INSTANCE, "--results", str(results), "--html", str(tmp_path / "r.html"),
         "-k", "not mac_file"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    data = json.loads(results.read_text())
    assert by_status(data, "passed") == ALL_CHECKS - {"test_mac_file"}
    assert data["lab"] == "ip-plan" and data["score"] == 16  # 17 less the deselected test_mac_file


def test_bad_input_gives_one_clear_line(tmp_path):
    for args in (["up", "no-such-lab"], ["grade", "ip-plan", "--inventory", str(tmp_path / "missing.py"),
                                          "--seed", "1", "--out", str(tmp_path)]):
        proc = cli(*args)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    broken = tmp_path / "inv.py"
    broken.write_text("pcs = [('pc1', {'ssh_hostname': '10.0.0.1'})\n")
    proc = cli("grade", "ip-plan", "--inventory", str(broken), "--seed", "1", "--out", str(tmp_path))
    assert proc.returncode == 2 and "inv.py" in proc.stderr and "Traceback" not in proc.stderr


def test_without_root_virtual_lab_commands_say_why():
    proc = cli("status", user="nobody")
    assert proc.returncode == 2
    assert "root" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_down_removes_everything():
    from tspcr_lab.virtual import netns
    from tspcr_lab.virtual.lab import STATE_ROOT

    from tspcr_lab.virtual.lab import load_instance_state

    cli("down", "ip-plan", "--instance", "e2e-down")
    cli("up", "ip-plan", "--instance", "e2e-down", "--seed", "1", check=True)
    import psutil

    roots = [h.pid for h in load_instance_state("e2e-down").hosts.values()]
    pids = [p.pid for r in roots for p in [psutil.Process(r), *psutil.Process(r).children(recursive=True)]]
    assert len(roots) == 4 and len(pids) > 4
    cli("down", "ip-plan", "--instance", "e2e-down", check=True)
    assert not [ns for ns in netns.listing() if ns.startswith("tl-e2e-down")]
    assert not (STATE_ROOT / "e2e-down").exists()
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "e2e-down" not in links and "m-pc1" not in links


def test_an_instance_whose_lab_file_is_gone_is_listed_and_taken_down(tmp_path):
    """A lab started from a folder (an instructor's draft) that is then removed or broken: status
    still lists its instance, and down removes it from its saved state."""
    import shutil

    from tspcr_lab.virtual.lab import STATE_ROOT

    folder = tmp_path / "draft-lab"
    shutil.copytree(Path(__file__).parents[2] / "labs" / "ip-plan", folder)
    lab_toml = folder / "lab.toml"
    lab_toml.write_text(lab_toml.read_text(encoding="utf-8").replace('id = "ip-plan"', 'id = "draft-lab"', 1),
                        encoding="utf-8")
    cli("down", str(folder), "--instance", "e2e-draft")
    cli("up", str(folder), "--instance", "e2e-draft", "--seed", "1", check=True)
    try:
        shutil.rmtree(folder)
        listed = json.loads(cli("status", "--json", check=True).stdout)
        mine = [item for item in listed if item["instance"] == "e2e-draft"]
        assert mine and mine[0]["lab"] == "draft-lab" and mine[0]["lab_missing"] is True
        assert all(host["running"] for host in mine[0]["hosts"].values())
        assert "e2e-draft" in cli("status", check=True).stdout
    finally:
        proc = cli("down", "draft-lab", "--instance", "e2e-draft")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "unknown lab 'draft-lab'" in proc.stdout and "is down" in proc.stdout
    assert not (STATE_ROOT / "e2e-draft").exists()


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/ip-plan/faults.toml)."""
    assert_selftest_passes("ip-plan")
