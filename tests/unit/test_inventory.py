"""Inventories of real labs in pyinfra's format: groups of names or (name, data) tuples."""

from __future__ import annotations

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.inventory import load_inventory


def write(tmp_path, text: str):
    path = tmp_path / "inventory.py"
    path.write_text(text, encoding="utf-8")
    return path


def failure(path) -> str:
    with pytest.raises(UserError) as info:
        load_inventory(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_valid_inventory(tmp_path):
    path = write(tmp_path, (
        'pcs = ["pc1", ("pc2", {"ssh_hostname": "10.0.0.2", "ssh_port": 2222})]\n'
        'routers = (("r1", {"ssh_hostname": "10.0.0.1", "ssh_user": "admin"}),)\n'
        '_spare = ["pc9"]\n'
        'port = 22\n'
    ))
    inventory = load_inventory(path)
    assert inventory.groups == {"pcs": ["pc1", "pc2"], "routers": ["r1"]}
    assert inventory.hosts == {
        "pc1": {},
        "pc2": {"ssh_hostname": "10.0.0.2", "ssh_port": 2222},
        "r1": {"ssh_hostname": "10.0.0.1", "ssh_user": "admin"},
    }


def test_data_merges_across_groups(tmp_path):
    path = write(tmp_path, (
        'everyone = [("pc1", {"ssh_user": "root", "ssh_port": 22})]\n'
        'pcs = [("pc1", {"ssh_port": 2222, "seat": 3}), "pc2"]\n'
    ))
    inventory = load_inventory(path)
    assert inventory.hosts["pc1"] == {"ssh_user": "root", "ssh_port": 2222, "seat": 3}
    assert inventory.groups == {"everyone": ["pc1"], "pcs": ["pc1", "pc2"]}


def test_real_lab_target_provisions_with_the_inventory_data(tmp_path):
    from tspcr_lab.labfile import load_lab
    from tspcr_lab.targets import inventory_target

    path = write(tmp_path, (
        'everyone = [("pc1", {"ssh_user": "root", "ssh_port": 22}), "pc2", "r1", "srv1"]\n'
        'pcs = [("pc1", {"ssh_port": 2222, "seat": 3})]\n'
    ))
    target = inventory_target(load_lab("ip-plan"), path, 7, "")
    assert target.provision_hosts["pc1"] == ("pc1", {"ssh_user": "root", "ssh_port": 2222, "seat": 3})
    assert set(target.provision_hosts) == {"pc1", "pc2", "r1", "srv1"} and target.seed == 7


def test_syntax_error_gives_the_line(tmp_path):
    message = failure(write(tmp_path, 'pcs = ["pc1"]\n\nrouters = [("r1", {"ssh_user": "admin"})\n'))
    assert "line 3" in message


def test_runtime_error_is_one_line(tmp_path):
    assert "NameError" in failure(write(tmp_path, "pcs = [undefined]\n"))


@pytest.mark.parametrize("entry", ['("pc1", "10.0.0.1")', '["pc1", {}]', "42", '("pc1", {}, {})'])
def test_entry_neither_name_nor_tuple(tmp_path, entry):
    message = failure(write(tmp_path, f'pcs = ["pc2", {entry}]\n'))
    assert "group pcs" in message and "neither a name nor (name, {data})" in message


def test_unknown_ssh_key(tmp_path):
    message = failure(write(tmp_path, 'pcs = [("pc1", {"ssh_hostnme": "10.0.0.1"})]\n'))
    assert "host pc1" in message and "ssh_hostnme" in message


@pytest.mark.parametrize("text", ["", "# nothing yet\nport = 22\n", "pcs = []\n"])
def test_empty_inventory(tmp_path, text):
    assert "no hosts" in failure(write(tmp_path, text))


def test_missing_file(tmp_path):
    assert "no such file" in failure(tmp_path / "absent.py")


STATIONS = (
    'station01 = [("s1-pc1", {"lab_host": "pc1", "ssh_hostname": "10.1.0.11"}), ("s1-pc2", {"lab_host": "pc2"}),'
    ' ("s1-r1", {"lab_host": "r1"}), ("s1-srv1", {"lab_host": "srv1"})]\n'
    'station02 = [("s2-pc1", {"lab_host": "pc1", "ssh_hostname": "10.2.0.11"}), ("s2-pc2", {"lab_host": "pc2"}),'
    ' ("s2-r1", {"lab_host": "r1"})]\n'
    'station03 = [("s3-pc1", {"lab_host": "pc1"}), ("s3-pcx", {"lab_host": "pc1"})]\n'
)


def test_a_trainee_station_maps_lab_hosts_to_its_group(tmp_path):
    from tspcr_lab.labfile import load_lab
    from tspcr_lab.targets import inventory_target

    path = write(tmp_path, STATIONS)
    lab = load_lab("ip-plan")
    target = inventory_target(lab, path, 11, "Camille", "station01")
    assert {name: pyinfra for name, (pyinfra, _) in target.provision_hosts.items()} == {
        "pc1": "s1-pc1", "pc2": "s1-pc2", "r1": "s1-r1", "srv1": "s1-srv1"}
    assert target.transports["pc1"]().address == "10.1.0.11"
    with pytest.raises(UserError, match="group station02: lab ip-plan needs host\\(s\\) srv1"):
        inventory_target(lab, path, 11, "", "station02")
    with pytest.raises(UserError, match="group station03 has two hosts for pc1"):
        inventory_target(lab, path, 11, "", "station03")
    with pytest.raises(UserError, match="no group 'station09'"):
        inventory_target(lab, path, 11, "", "station09")


# --- network devices ---------------------------------------------------------------------------

DEVICE = '{"device_type": "cisco_ios", "device_driver": "frr", "device_hostname": "192.0.2.1", "device_user": "admin"'


def test_a_network_device_with_its_password_in_a_variable(tmp_path, monkeypatch):
    path = write(tmp_path, f'routers = [("r1", {DEVICE}, "device_password_env": "R1_PASSWORD", "device_port": 2222}})]\n'
                           'pcs = ["pc1"]\n')
    inventory = load_inventory(path)
    spec = inventory.devices["r1"]
    assert list(inventory.devices) == ["r1"]
    assert (spec.device_type, spec.driver, spec.hostname, spec.port, spec.user) == ("cisco_ios", "frr", "192.0.2.1", 2222, "admin")
    assert spec.secret is None
    monkeypatch.delenv("R1_PASSWORD", raising=False)
    with pytest.raises(UserError, match="the environment variable R1_PASSWORD is not set"):
        spec.password.read()
    monkeypatch.setenv("R1_PASSWORD", "s3cret")
    assert spec.password.read() == "s3cret"


def test_a_password_file_outside_the_project_readable_by_its_owner_only(tmp_path):
    secret = tmp_path / "keys" / "r1.enable"
    secret.parent.mkdir()
    secret.write_text("en4ble\nignored\n")
    secret.chmod(0o600)
    path = write(tmp_path, f'routers = [("r1", {DEVICE}, "device_password_env": "P", "device_secret_file": "keys/r1.enable"}})]\n')
    spec = load_inventory(path).devices["r1"]
    assert spec.secret.where == str(secret) and spec.secret.read() == "en4ble"  # relative to the inventory
    secret.chmod(0o640)
    with pytest.raises(UserError, match=r"readable by others than its owner \(mode 0640\): chmod 600"):
        spec.secret.read()


def test_a_password_file_inside_the_checkout_is_refused(tmp_path):
    from tspcr_lab.labfile import project_root

    inside = project_root() / "inventory" / "r1.password"
    path = write(tmp_path, f'routers = [("r1", {DEVICE}, "device_password_file": "{inside}"}})]\n')
    assert "is inside the project checkout" in failure(path) and "outside the repository" in failure(path)


@pytest.mark.parametrize("data, expected", [
    ('"device_password": "cisco"', "device_password would keep a password in the inventory: give device_password_env"),
    ('"device_secret": "x", "device_password_env": "P"', "device_secret would keep a password in the inventory"),
    ('"device_pasword_env": "P"', "unknown key device_pasword_env (did you mean device_password_env?)"),
    ('"device_password_env": "P", "device_password_file": "/etc/x"', "give device_password_env or device_password_file, not both"),
    ('"device_user_name": "x"', "did you mean device_user?"),
])
def test_device_keys_are_checked(tmp_path, data, expected):
    path = write(tmp_path, f'routers = [("r1", {DEVICE}, {data}}})]\n')
    assert expected in failure(path)


@pytest.mark.parametrize("data, expected", [
    ('{"device_type": "juniper_junos", "device_user": "a", "device_password_env": "P"}',
     "device_type 'juniper_junos' is not supported (supported: cisco_ios, cisco_xe)"),
    ('{"device_type": "cisco_xe", "device_driver": "frr", "device_user": "a", "device_password_env": "P"}',
     "device_type 'cisco_xe' does not go with device_driver 'frr'"),
    ('{"device_type": "cisco_ios", "device_driver": "vyos", "device_user": "a", "device_password_env": "P"}',
     "device_driver 'vyos' is not one of ios, frr"),
    ('{"device_type": "cisco_ios", "device_password_env": "P"}', "a network device needs device_user"),
    ('{"device_type": "cisco_ios", "device_user": "a"}', "needs device_password_env (an environment variable's name)"),
    ('{"device_type": "cisco_ios", "device_user": "a", "device_password_env": "P", "device_port": "22"}',
     "device_port must be a TCP port number"),
    ('{"device_hostname": "192.0.2.1"}', "device_hostname needs device_type"),
    ('{"ssh_hostnme": "192.0.2.1"}', "unknown key ssh_hostnme (did you mean ssh_hostname?)"),
])
def test_device_declarations_are_checked(tmp_path, data, expected):
    path = write(tmp_path, f'routers = [("r1", {data})]\n')
    assert expected in failure(path)


def test_provisioning_skips_network_devices(tmp_path, monkeypatch):
    from tspcr_lab import provision
    from tspcr_lab.labfile import load_lab
    from tspcr_lab.params import generate
    from tspcr_lab.targets import inventory_target

    path = write(tmp_path, f'pcs = ["pc1", "pc2", "srv1"]\nrouters = [("r1", {DEVICE}, "device_password_env": "P"}})]\n')
    lab = load_lab("ip-plan")
    target = inventory_target(lab, path, 7, "")
    seen = []
    monkeypatch.setattr(provision, "run_deploy_batches",
                        lambda deploy, batches, processes: seen.extend(batches) or provision.ProvisionResult(str(deploy), [], {}, [], 0))
    result = provision.apply_to_targets([(target, generate(lab, 7))], lab.deploy_file)
    assert [name for batch in seen for name, _ in batch] == ["pc1", "pc2", "srv1"]
    assert result.skipped == ["r1"]
    assert target.endpoints["r1"].address == "192.0.2.1"  # where its CLI answers
