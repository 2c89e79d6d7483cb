"""remote-support end to end, on the real virtual lab through the CLI: every fault of the
catalogue proven by ``tspcr-lab variants`` (3 trainees); one trainee's lab graded from every side:
untouched (fails, no error, grading changes nothing), the reference solution (the maximum, again
after a second grading and after the bastion and pc1 reboot, nothing changed by grading), other
valid ways (keys in AuthorizedKeysFile elsewhere, AuthenticationMethods, Match blocks, sudoers in
/etc/sudoers with aliases, ProxyCommand and a key at another path in ~/.ssh/config, a bastion
account without a shell) at the maximum, policy breaks (password login on, root login with a key,
sudo ALL, an inventory of the wrong host, no message, no auth log: an error), the repair made on
pc1's console, and another path opened around the bastion."""

from __future__ import annotations

from .conftest import assert_variants_proven, by_status, module_lab

LAB = "remote-support"
SEED = 515  # ticket #1: cron-stopped (its repair has two parts: cron started, and at boot)
INSTANCE = "rs-e2e"
HOSTS = ("hd1", "bastion", "pc1")
# What grading may leave in the hosts' layers besides the logs: nothing (sudo's time stamps are in /run)
ALSO = ()

lab, expected = module_lab(LAB, INSTANCE, SEED, HOSTS)

ALL = {"test_helpdesk_account[bastion]", "test_helpdesk_account[pc1]", "test_key_login_through_bastion",
       "test_only_path", "test_password_login_refused[bastion]", "test_password_login_refused[pc1]",
       "test_root_login_refused[bastion]", "test_root_login_refused[pc1]", "test_sudo_rights[bastion]",
       "test_sudo_rights[pc1]", "test_repair_through_bastion", "test_symptom[1]", "test_cause[1]",
       "test_no_damage[1]", "test_no_damage_elsewhere", "test_inventory_format", "test_inventory_hardware",
       "test_inventory_software", "test_report[1]", "test_message"}


def messages(results: dict) -> dict[str, str]:
    return {c["id"]: c["message"] for c in results["checks"]}


def test_every_fault_of_the_catalogue_is_proven(tmp_path):
    # with the exam's seed 2026, t01..t03 draw the three faults of the catalogue
    assert_variants_proven(LAB, ("t01", "t02", "t03"), tmp_path, copies=2, timeout=900)


def test_untouched_fails_without_errors_and_grading_changes_nothing(lab, expected, tmp_path):
    lab.restore("untouched")
    files = lab.files(HOSTS, also=ALSO)
    code, results = lab.grade(tmp_path)
    assert code == 1 and not by_status(results, "error"), messages(results)
    # what the deploy gives: a network with the bastion as the only path, nothing damaged
    assert by_status(results, "passed") == {"test_only_path", "test_no_damage[1]", "test_no_damage_elsewhere"}
    assert lab.files(HOSTS, also=ALSO) == files
    found = messages(results)
    assert "PasswordAuthentication yes" in found["test_password_login_refused[pc1]"]
    assert "root" in found["test_root_login_refused[bastion]"]  # root's password works as delivered
    assert "cron" in found["test_cause[1]"]


def test_the_solution_gets_the_maximum_again_and_after_a_reboot(lab, tmp_path):
    lab.restore("solved")
    code, results = lab.grade(tmp_path / "1")
    assert code == 0 and by_status(results, "passed") == ALL, messages(results)
    assert results["score"] == results["max_score"]
    assert set(results["competencies"]) == {"024", "025", "028"}
    files = lab.files(HOSTS, also=ALSO)
    code, again = lab.grade(tmp_path / "2")
    assert code == 0 and again["score"] == again["max_score"], messages(again)
    assert lab.files(HOSTS, also=ALSO) == files  # grading twice changed nothing
    for host in ("bastion", "pc1"):
        lab.vlab.reboot(host)
    code, rebooted = lab.grade(tmp_path / "3")
    assert code == 0 and rebooted["score"] == rebooted["max_score"], messages(rebooted)


def test_other_valid_ways_keep_the_maximum(lab, expected, tmp_path):
    lab.restore("solved")
    account, user = expected["helpdesk"], expected["user"]
    lab.on("bastion", f"""mkdir -p /etc/ssh/authorized_keys
mv /home/{account}/.ssh/authorized_keys /etc/ssh/authorized_keys/{account}
chmod 644 /etc/ssh/authorized_keys/{account}
printf 'PermitRootLogin no\\nAuthenticationMethods publickey\\nAuthorizedKeysFile /etc/ssh/authorized_keys/%%u\\n' > /etc/ssh/sshd_config.d/10-policy.conf
printf 'Match User {account}\\n    PermitTTY no\\n    ForceCommand /usr/sbin/nologin\\n' >> /etc/ssh/sshd_config
usermod -s /usr/sbin/nologin {account}
sshd -t && service ssh restart >/dev/null""")
    lab.on("pc1", f"""rm /etc/sudoers.d/{account}
printf 'Cmnd_Alias SUPPORT = /usr/sbin/service, sudoedit /etc/tspcr-lab/boot-services, sudoedit /etc/profile.d/*\\n' >> /etc/sudoers
printf 'Cmnd_Alias USERFILES = /usr/bin/chown {user} /home/{user}, sudoedit /home/{user}/message-support.txt\\n' >> /etc/sudoers
printf '{account} ALL = (root) NOPASSWD: SUPPORT, USERFILES\\n' >> /etc/sudoers
visudo -c -q
printf 'PermitRootLogin no\\n' > /etc/ssh/sshd_config.d/10-policy.conf
printf 'Match User {account}\\n    PasswordAuthentication no\\n    KbdInteractiveAuthentication no\\n' >> /etc/ssh/sshd_config
sshd -t && service ssh restart >/dev/null""")
    lab.on("hd1", f"""cd /home/tech/.ssh && mkdir -p keys
mv id_ed25519 keys/support_ed25519 && mv id_ed25519.pub keys/support_ed25519.pub
printf 'Host bastion pc1\\n    User {account}\\n    IdentityFile ~/.ssh/keys/support_ed25519\\nHost pc1\\n    ProxyCommand ssh -W %%h:%%p bastion\\n' > config
chown -R tech:tech /home/tech/.ssh""")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL, messages(results)


def test_policy_breaks_each_fail_their_check_and_no_log_is_an_error(lab, expected, tmp_path):
    """From the solved lab: password login left on (pc1), root logs in with tech's key (bastion),
    sudo ALL (pc1) and group sudo (bastion), the inventory of hd1 instead of pc1's, no message;
    pc1's auth log removed (the repair's path cannot be judged: an error, not a failure)."""
    lab.restore("solved")
    account = expected["helpdesk"]
    lab.on("pc1", f"""printf 'PermitRootLogin no\\n' > /etc/ssh/sshd_config.d/10-policy.conf
service ssh restart >/dev/null
echo '{account} ALL=(ALL:ALL) NOPASSWD: ALL' >> /etc/sudoers.d/{account}
rm {expected['message']} /var/log/auth.log""")
    lab.on("bastion", f"""printf 'PermitRootLogin prohibit-password\\nPasswordAuthentication no\\n' > /etc/ssh/sshd_config.d/10-policy.conf
mkdir -p /root/.ssh && cp /home/{account}/.ssh/authorized_keys /root/.ssh/authorized_keys
service ssh restart >/dev/null
usermod -aG sudo {account}""")
    lab.on("hd1", "cd /home/tech/inventory && runuser -u tech -- sh -c "
                  f"'sh collect-inventory.sh {' '.join(expected['versions'])} > pc1.toml'")
    code, results = lab.grade(tmp_path)
    assert code == 3 and by_status(results, "error") == {"test_repair_through_bastion"}, messages(results)
    assert by_status(results, "failed") == {
        "test_password_login_refused[pc1]", "test_root_login_refused[bastion]", "test_sudo_rights[pc1]",
        "test_sudo_rights[bastion]", "test_inventory_hardware", "test_inventory_software", "test_message"}
    found = messages(results)
    assert "avec son mot de passe" in found["test_password_login_refused[pc1]"]  # the real attempt
    assert "clé de tech" in found["test_root_login_refused[bastion]"]
    assert "ALL" in found["test_sudo_rights[pc1]"] and "ALL" in found["test_sudo_rights[bastion]"]
    assert "system.hostname" in found["test_inventory_software"]
    assert "auth log" in found["test_repair_through_bastion"]


def test_a_repair_made_on_the_console_is_not_through_the_bastion(lab, tmp_path):
    lab.restore("untouched")
    lab.cli("solve", "--sample", "console-repair", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and by_status(results, "failed") == {"test_repair_through_bastion"}, messages(results)
    assert "sudo" in messages(results)["test_repair_through_bastion"]


def test_another_path_around_the_bastion_is_seen_from_every_side(lab, expected, tmp_path):
    lab.restore("untouched")
    lab.cli("solve", "--sample", "direct-path", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and by_status(results, "failed") == {
        "test_only_path", "test_repair_through_bastion", "test_no_damage[1]", "test_no_damage_elsewhere"}, \
        messages(results)
    found = messages(results)
    assert expected["hd1"] in found["test_repair_through_bastion"]  # the session came from hd1 itself
    assert "pare-feu" in found["test_no_damage[1]"] and "30-bastion.conf" in found["test_no_damage_elsewhere"]
