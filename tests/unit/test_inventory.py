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
