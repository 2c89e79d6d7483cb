"""troubleshoot-network end to end: every variant of a class proven by ``tspcr-lab variants``
(each fault injected fails its symptom and cause, each workaround hides the symptom and leaves
the cause, the reference repair gets the maximum), and one trainee's lab graded from every side:
untouched, repaired, repaired with collateral damage (shown with its evidence), an
intervention report that names the wrong cause, the ledger missing (an error, never a
failure), grading that changes nothing."""

from __future__ import annotations

from .conftest import assert_variants_proven, by_status, module_lab

LAB = "troubleshoot-network"
SEED = 4263  # tickets: #1 r1-dhcp-exhausted, #2 srv1-nginx
INSTANCE = "e2e-tsn"
HOSTS = ("pc1", "pc2", "r1", "srv1", "r2", "srv2")
# With the exam's seed 2026, these trainees' sets cover the whole catalogue (11 faults: at least 7
# trainees, as each set holds one fault of the "site" group at most and there are 7 of those).
CLASS = ("t01", "t02", "t04", "t05", "t06", "t12", "t17")

lab, expected = module_lab(LAB, INSTANCE, SEED, HOSTS)


def checks(*names: str) -> set[str]:
    return {f"test_{name}[{n}]" for name in names for n in (1, 2)}


ALL = checks("symptom", "cause", "no_damage", "report") | {"test_no_damage_elsewhere"}


def test_every_variant_of_the_class_is_proven(tmp_path):
    report = assert_variants_proven(LAB, CLASS, tmp_path)
    assert len({tuple(sorted(p["faults"])) for p in report["proofs"]}) == 7  # 7 of the 21 sets


def test_untouched_fails_each_ticket_and_grading_changes_nothing(lab, expected, tmp_path):
    lab.restore("untouched")
    files = lab.files(HOSTS, also=("var/lib/dhcp", "var/lib/misc"))
    code, results = lab.grade(tmp_path)
    assert code == 1 and not by_status(results, "error")
    assert by_status(results, "failed") == checks("symptom", "cause", "report")
    assert by_status(results, "passed") == checks("no_damage") | {"test_no_damage_elsewhere"}
    assert lab.files(HOSTS, also=("var/lib/dhcp", "var/lib/misc")) == files
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "plage DHCP" in messages["test_cause[1]"] or "DHCP range" in messages["test_cause[1]"]
    assert "nginx" in messages["test_cause[2]"]


def test_reference_repair_gets_the_maximum(lab, tmp_path):
    lab.restore("solved")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL, results["checks"]
    assert results["score"] == results["max_score"]
    assert set(results["competencies"]) == {"016", "018", "021", "022"}
    assert {c["id"]: c["competency"] for c in results["checks"]}["test_symptom[2]"] == "021"  # srv1-nginx: its own competency


def test_a_workaround_is_not_a_repair_and_damage_is_shown(lab, expected, tmp_path):
    """nginx started by hand (not at boot); r1 repaired, but its firewall-free srv1 flushed and a
    line added to pc1's /etc/hosts (a host no ticket is about): the symptoms are gone, the cause of
    #2 is not repaired, and both changes are damage, each with its evidence."""
    lab.restore("untouched")
    lab.on("r1", f"sed -i 's/^dhcp-range=.*/dhcp-range={expected['dhcp_start']},{expected['dhcp_end']},"
                 f"{expected['netmask_a']},12h/' /etc/dnsmasq.d/lan-a.conf; service dnsmasq restart")
    lab.on("pc2", "ifdown --force eth0 || true; ifup eth0")
    lab.on("srv1", "nginx; nft flush ruleset")
    lab.on("pc1", f"echo '{expected['srv1']} intranet' >> /etc/hosts")
    code, results = lab.grade(tmp_path)
    status = {c["id"]: c["status"] for c in results["checks"]}
    assert status["test_symptom[1]"] == status["test_symptom[2]"] == "passed"
    assert status["test_cause[1]"] == "passed" and status["test_cause[2]"] == "failed"
    assert status["test_no_damage[2]"] == "failed" and status["test_no_damage_elsewhere"] == "failed"
    assert status["test_no_damage[1]"] == "passed"  # r1 and pc2 changed within the ticket's scope only
    by_id = {c["id"]: c for c in results["checks"]}
    assert "pare-feu" in by_id["test_no_damage[2]"]["message"] or "firewall" in by_id["test_no_damage[2]"]["message"]
    evidence = "\n".join(e["stdout"] for e in by_id["test_no_damage_elsewhere"]["evidence"])
    assert f"+{expected['srv1']} intranet" in evidence  # the diff of pc1's /etc/hosts
    assert "ne démarre pas au boot" in by_id["test_cause[2]"]["message"] or "boot" in by_id["test_cause[2]"]["message"]


def test_a_report_naming_the_wrong_cause_fails(lab, expected, tmp_path):
    lab.restore("solved")
    lab.on("pc1", "sed -i '/^## Cause/,/^## Action/{/^## /!d}' /root/tickets/ticket-2.md; "
                  "sed -i 's/^## Cause$/## Cause\\nLe câble de pc1 était débranché./' /root/tickets/ticket-2.md")
    lab.on("pc1", "printf '# vide\\n' > /root/tickets/ticket-1.md")
    code, results = lab.grade(tmp_path)
    assert code == 1 and by_status(results, "failed") == {"test_report[1]", "test_report[2]"}
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "rubriques absentes" in messages["test_report[1]"] or "missing" in messages["test_report[1]"]
    assert "vraie panne" in messages["test_report[2]"] or "real fault" in messages["test_report[2]"]


def test_without_the_ledger_damage_is_an_error_not_a_failure(lab, tmp_path):
    lab.restore("solved")
    ledger = lab.vlab.dir / "fault-ledger.json"
    kept = ledger.read_bytes()
    ledger.unlink()
    try:
        code, results = lab.grade(tmp_path)
    finally:
        ledger.write_bytes(kept)
    assert code == 3
    assert by_status(results, "error") == checks("no_damage") | {"test_no_damage_elsewhere"}
    assert by_status(results, "passed") == checks("symptom", "cause", "report")
    message = next(c["message"] for c in results["checks"] if c["id"] == "test_no_damage_elsewhere")
    assert "tspcr-lab up" in message and "\n" not in message.strip()
