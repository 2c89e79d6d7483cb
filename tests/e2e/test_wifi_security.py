"""wifi-security end to end, on a real radio VM (qemu running the image's kernel, mac80211_hwsim,
hostapd on ap1, wpa_supplicant on the laptop, the grader's own radio and monitor): solved, graded
twice without a change, after ap1 and the laptop reboot, each requirement broken (a WPA2-only
AP; a weak passphrase; the laptop's and the AP's configuration not kept for the next boot), the
untouched lab, and the VM's isolation (a wireless host's root can neither mount nor load a
module nor see the VM's control folder).

A restore of a wireless host restarts its VM (its files are mounted while it runs): the module
keeps the state it is in between tests that need the same one."""

from __future__ import annotations

import pytest

from .conftest import by_status, module_lab

SEED = 4242  # WPA3-only (SAE, PMF required): WPA2-PSK must be refused
INSTANCE = "e2e-wifi"
WORK = ("ap1", "laptop")

SECURITY = {f"test_network_security[{a}]" for a in ("akm", "ciphers", "pmf", "wps")}
JOINS = {f"test_join[{c}]" for c in ("plan", "wrong-passphrase", "wpa2-psk", "tkip", "open")}
LAPTOP = {"test_laptop_associated", "test_laptop_persistent", "test_laptop_address", "test_laptop_reaches_server",
          "test_laptop_identity"}
ALL_CHECKS = {"test_network_announced", *SECURITY, *JOINS, "test_passphrase_strong", *LAPTOP, "test_ap_bridge",
              "test_hostapd_at_boot"}
MAXIMA = {"008": 16.0, "032": 10.0, "031": 3.0}


lab, expected = module_lab("wifi-security", INSTANCE, SEED, WORK)


@pytest.fixture(scope="module")
def at(lab):
    """``at("solved")``: the wireless hosts back to a snapshot, only when they are not in it."""
    current = {"name": "solved"}  # module_lab leaves the lab solved

    def go(name: str | None) -> None:
        if name is not None and current["name"] != name:
            lab.restore(name, WORK)
        current["name"] = name  # None: changed by a test, to be restored by the next

    return go


def failed_and_errors(results: dict) -> tuple[set[str], set[str]]:
    return by_status(results, "failed"), by_status(results, "error")


def test_solved_lab_gets_the_maximum_and_grading_changes_nothing(lab, at, expected, tmp_path):
    at("solved")
    show = {"ap1": "cat /etc/hostapd/hostapd.conf /etc/network/interfaces.d/*; ip -br addr; pgrep -c hostapd",
            "laptop": "cat /etc/wpa_supplicant/wpa_supplicant.conf /etc/network/interfaces.d/*; ip -br -4 addr show wlan0"}
    configs = {h: lab.on(h, script) for h, script in show.items()}
    files = lab.files(WORK, also=("var/lib/dhcp",))
    code, results = lab.grade(tmp_path / "first")
    assert code == 0, failed_and_errors(results)
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {c: v["max"] for c, v in results["competencies"].items()} == MAXIMA
    evidence = {c["id"]: c["evidence"] for c in results["checks"]}
    joined = "\n".join(e["stdout"] for e in evidence["test_join[wpa2-psk]"])
    assert "join 'NIORT-PRO' WPA-PSK" in "\n".join(e["command"] for e in evidence["test_join[wpa2-psk]"])
    assert "not-found" in joined  # a WPA3-only AP offers nothing a WPA2 client accepts
    assert expected["passphrase"] not in str(evidence)  # the passphrase sent is masked
    capture = "\n".join(e["stdout"] for e in evidence["test_laptop_associated"])
    assert "associated again" in capture and "AKM SAE" in capture
    # a second grading: the same verdicts, nothing of the trainee's changed
    code, again = lab.grade(tmp_path / "second")
    assert code == 0 and by_status(again, "passed") == ALL_CHECKS, failed_and_errors(again)
    assert lab.files(WORK, also=("var/lib/dhcp",)) == files
    assert {h: lab.on(h, script) for h, script in show.items()} == configs


def test_solution_survives_a_reboot_of_the_ap_and_the_laptop(lab, at, tmp_path):
    at("solved")
    for host in ("ap1", "laptop"):
        lab.vlab.reboot(host)
    lab.on("laptop", "for i in $(seq 60); do wpa_cli -i wlan0 status | grep -qx wpa_state=COMPLETED && "
                     "ip -4 addr show wlan0 | grep -q inet && exit 0; sleep 1; done; exit 1")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, failed_and_errors(results)


def test_a_wpa2_only_ap_fails_the_wpa3_requirements(lab, at, tmp_path):
    """ap1 set to WPA2-PSK only, without PMF: what the air says fails, the grader's WPA3 client
    and the laptop (SAE, PMF required) stay out, a WPA2 client gets in, which the plan forbids."""
    at("solved")
    at(None)
    lab.on("ap1", "sed -i -e 's/^wpa_key_mgmt=.*/wpa_key_mgmt=WPA-PSK/' -e 's/^ieee80211w=.*/ieee80211w=0/' "
                  "-e 's/^sae_password=\\(.*\\)/wpa_passphrase=\\1/' /etc/hostapd/hostapd.conf; "
                  "service hostapd stop; service hostapd start")
    code, results = lab.grade(tmp_path)
    failed, errors = failed_and_errors(results)
    assert code == 1 and not errors
    assert failed == {"test_network_security[akm]", "test_network_security[pmf]", "test_join[plan]",
                      "test_join[wrong-passphrase]", "test_join[wpa2-psk]", "test_laptop_associated",
                      "test_laptop_reaches_server"}
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "gestion des clés annoncée (AKM)" in messages["test_network_security[akm]"]


def test_a_weak_passphrase_and_nothing_kept_for_the_next_boot(lab, at, expected, tmp_path):
    """ap1 and the laptop on a dictionary passphrase (they still connect: only the passphrase
    checks fail, the grader's client with the plan's is refused); the laptop's wlan0 and ap1's
    br0 and hostapd brought up by hand, not at boot; the laptop's MAC file wrong."""
    at("solved")
    at(None)
    weak = "azerty1234"
    lab.on("ap1", f"sed -i 's/^sae_password=.*/sae_password={weak}/' /etc/hostapd/hostapd.conf; "
                  "service hostapd stop; service hostapd start; "
                  "sed -i '/^hostapd$/d' /etc/tspcr-lab/boot-services; rm /etc/network/interfaces.d/br0")
    lab.on("laptop", f"sed -i 's/^    sae_password=.*/    sae_password=\"{weak}\"/' /etc/wpa_supplicant/wpa_supplicant.conf; "
                     "sed -i '/^auto wlan0$/d' /etc/network/interfaces.d/wlan0; "
                     f"echo 02:00:00:00:09:09 > {expected['mac_file']}; "
                     "wpa_cli -i wlan0 reconfigure; for i in $(seq 60); do "
                     "wpa_cli -i wlan0 status | grep -qx wpa_state=COMPLETED && exit 0; sleep 1; done; exit 1")
    code, results = lab.grade(tmp_path)
    failed, errors = failed_and_errors(results)
    assert code == 1 and not errors
    assert failed == {"test_join[plan]", "test_passphrase_strong", "test_laptop_persistent", "test_laptop_identity",
                      "test_ap_bridge", "test_hostapd_at_boot"}
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "faible" in messages["test_passphrase_strong"]


def test_untouched_lab_fails_everything(lab, at, tmp_path):
    at("untouched")
    code, results = lab.grade(tmp_path)
    failed, errors = failed_and_errors(results)
    assert code == 1 and results["complete"] is True and not errors
    assert failed == ALL_CHECKS
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "aucune balise (beacon) de ap1" in messages["test_network_announced"]
    assert "il ne refuse rien" in messages["test_join[open]"]
    assert all(c["hint"] for c in results["checks"])


def test_a_wireless_host_is_root_in_itself_only(lab):
    """Root of the laptop has its network (net.* sysctls, its radio) and nothing of the VM: no
    mount, no module, kernel.* read-only, no sight of the VM's control folder or other hosts."""
    out = lab.on("laptop", "mount -t tmpfs x /mnt 2>&1 && echo MOUNTED; modprobe dummy 2>&1 && echo LOADED; "
                           "echo /x > /proc/sys/kernel/modprobe 2>&1 || echo KERNEL-RO; "
                           "echo 1 > /proc/sys/net/ipv4/conf/all/forwarding && echo NET-OK; "
                           "echo 0 > /proc/sys/net/ipv4/conf/all/forwarding; "
                           "ls /ctl /run/vm 2>&1 | grep -c 'No such'; iw dev | grep -c Interface; true")
    assert "MOUNTED" not in out and "LOADED" not in out
    assert "KERNEL-RO" in out and "NET-OK" in out
    assert out.strip().splitlines()[-2:] == ["2", "1"]  # neither folder; its own radio only
