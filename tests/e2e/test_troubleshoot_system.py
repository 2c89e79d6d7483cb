"""troubleshoot-system end to end: every fault of the catalogue proven by ``tspcr-lab variants``
on a class whose sets cover it (each fault injected fails its symptom and cause, each workaround
hides the symptom and leaves the cause, the reference repair gets the maximum), and one
trainee's lab graded from every side: untouched, repaired by the reference, repaired another
valid way and rebooted, worked around with collateral damage (shown with its evidence), grading
that changes nothing."""

from __future__ import annotations

from .conftest import assert_variants_proven, by_status, module_lab

LAB = "troubleshoot-system"
SEED = 4240  # tickets: #1 ws1-home-permissions, #2 srv1-nginx-syntax, #3 ws1-disk-full
INSTANCE = "e2e-tss"
HOSTS = ("pc1", "ws1", "srv1")
# With the exam's seed 2026, these three trainees' sets cover the whole catalogue (8 faults).
CLASS = ("t01", "t09", "t17")

lab, expected = module_lab(LAB, INSTANCE, SEED, HOSTS)

TICKETS = (1, 2, 3)


def checks(*names: str) -> set[str]:
    return {f"test_{name}[{n}]" for name in names for n in TICKETS}


ALL = checks("symptom", "cause", "no_damage", "report") | {"test_no_damage_elsewhere"}


def test_every_fault_of_the_catalogue_is_proven(tmp_path):
    assert_variants_proven(LAB, CLASS, tmp_path, timeout=900)


def test_untouched_fails_each_ticket_and_grading_changes_nothing(lab, expected, tmp_path):
    lab.restore("untouched")
    files = lab.files(HOSTS)
    code, results = lab.grade(tmp_path)
    assert code == 1 and not by_status(results, "error")
    assert by_status(results, "failed") == checks("symptom", "cause", "report")
    assert by_status(results, "passed") == checks("no_damage") | {"test_no_damage_elsewhere"}
    assert lab.files(HOSTS) == files
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert expected["user"] in messages["test_symptom[1]"]
    assert "nginx -t" in messages["test_cause[2]"]
    assert "debug" in messages["test_cause[3]"]


def test_reference_repair_gets_the_maximum_and_each_ticket_counts_for_its_fault(lab, tmp_path):
    lab.restore("solved")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL, results["checks"]
    assert results["score"] == results["max_score"]
    assert set(results["competencies"]) == {"016", "018", "021"}
    competency = {c["id"]: c["competency"] for c in results["checks"]}
    assert {competency[f"test_symptom[{n}]"] for n in TICKETS} == {"021"}
    assert {competency[f"test_cause[{n}]"] for n in TICKETS} == {"018"}


def test_another_valid_repair_holds_after_a_reboot(lab, expected, tmp_path):
    """The trainee's own way: the folder given back with chown and chmod by name, the site's file
    rewritten (another layout, same meaning), the agent's level set with quotes and its log
    removed (it makes a new one); then ws1 and srv1 rebooted: still the maximum."""
    user, site = expected["user"], expected["site"]
    lab.restore("untouched")
    lab.on("ws1", "service inv-agent stop; rm -f /var/log/inv-agent.log; "
                  "sed -i 's/^LOGLEVEL=.*/LOGLEVEL=\"info\"  # back to normal/' /etc/default/inv-agent; service inv-agent start")
    lab.on("ws1", f"chown {user} /home/{user}/Documents /home/{user}/Documents/*; "
                  f"chgrp -R {user} /home/{user}/Documents; chmod u=rwx,go= /home/{user}/Documents")
    lab.on("srv1", "cat > /etc/nginx/sites-available/intranet <<'EOF'\n# intranet\nserver {\n"
                   f"\tlisten 80 default_server;\n\tserver_name {site};\n\troot /var/www/html;\n"
                   "\tindex index.html;\n\tlocation / { try_files $uri $uri/ =404; }\n}\nEOF\n"
                   "nginx -t && service nginx start")
    lab.on("pc1", "mkdir -p /root/tickets")
    for n in TICKETS:
        lab.on("pc1", f"cat > /root/tickets/ticket-{n}.md <<'EOF'\n# Ticket {n}\n## Symptom\nThe user's complaint.\n"
                      "## Diagnosis\nReproduced, then logs read.\n## Cause\n"
                      + {1: f"On ws1, {user}'s Documents belonged to root: wrong owner (chown).",
                         2: "On srv1, a missing ';' in nginx's site configuration (syntax error).",
                         3: "On ws1, the disk was full of the inv-agent's debug log."}[n]
                      + "\n## Action\nRepaired.\n## Test\nTested again.\n## Sources\nman.\n## Follow-up\nUser told.\nEOF")
    lab.vlab.reboot("ws1")
    lab.vlab.reboot("srv1")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL, \
        {c["id"]: c["message"] for c in results["checks"] if c["status"] != "passed"}


def test_workarounds_do_not_repair_and_damage_is_shown(lab, expected, tmp_path):
    """Documents opened to everyone (chmod -R 777), the log emptied with the agent left at debug
    and cron stopped on ws1, a line added to pc1's /etc/hosts (a host no ticket is about): both
    ws1 symptoms are gone, neither cause is repaired, cron and pc1's hosts file are damage."""
    user = expected["user"]
    lab.restore("untouched")
    lab.on("ws1", f"chmod -R 777 /home/{user}/Documents; : > /var/log/inv-agent.log; service cron stop")
    lab.on("pc1", f"echo '{expected['srv1']} intranet' >> /etc/hosts")
    code, results = lab.grade(tmp_path)
    status = {c["id"]: c["status"] for c in results["checks"]}
    assert status["test_symptom[1]"] == status["test_symptom[3]"] == "passed"
    assert status["test_cause[1]"] == status["test_cause[3]"] == status["test_symptom[2]"] == "failed"
    assert status["test_no_damage[1]"] == status["test_no_damage[3]"] == "failed"
    assert status["test_no_damage[2]"] == "passed" and status["test_no_damage_elsewhere"] == "failed"
    by_id = {c["id"]: c for c in results["checks"]}
    assert "cron" in by_id["test_no_damage[1]"]["message"]
    assert "ouverts aux autres" in by_id["test_cause[1]"]["message"] or "open to other" in by_id["test_cause[1]"]["message"]
    evidence = "\n".join(e["stdout"] for e in by_id["test_no_damage_elsewhere"]["evidence"])
    assert f"+{expected['srv1']} intranet" in evidence  # the diff of pc1's /etc/hosts
