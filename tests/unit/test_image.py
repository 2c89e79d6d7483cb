"""The hosts' image: what it holds (base and labs' packages), its name (changes with what it holds),
the id range hosts' root maps to, and the shift of a tree's owners to that range."""

from __future__ import annotations

import dataclasses
import os
import stat

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.labfile import load_lab
from tspcr_lab.virtual import image
from tspcr_lab.virtual.image import IdRange, image_spec

IDS = IdRange(700_000_000, 700_000_000)


def test_the_image_holds_the_base_and_every_labs_packages():
    spec = image_spec(ids=IDS)
    assert {"openssh-server", "iproute2", "tini", "ifupdown"} <= set(spec.packages)
    for name in ("ip-plan", "shares", "mail-client", "local-accounts"):
        assert set(load_lab(name).packages) <= set(spec.packages)
    assert list(spec.packages) == sorted(set(spec.packages))
    assert "samba" in spec.packages and "postfix" in spec.packages


def test_the_image_name_changes_with_what_it_holds():
    spec = image_spec(ids=IDS)
    assert spec.id == image_spec(ids=IDS).id and len(spec.id) == 12
    more = dataclasses.replace(spec, packages=tuple(sorted({*spec.packages, "htop"})))
    assert more.id != spec.id
    assert dataclasses.replace(spec, ids=IdRange(800_000_000, 800_000_000)).id != spec.id
    assert dataclasses.replace(spec, suite="trixie").id != spec.id
    only_ip_plan = image_spec([load_lab("ip-plan")], ids=IDS)
    assert "samba" not in only_ip_plan.packages and only_ip_plan.id != spec.id


def test_id_range_is_roots_first_range_of_65536(tmp_path, monkeypatch):
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("alice:100000:65536\nroot:200000:1000\nroot:700000000:65536\n")
    subgid.write_text("root:700000000:65536\n")
    monkeypatch.setattr(image, "SUBID_FILES", {"uid": subuid, "gid": subgid})
    assert image.id_range() == IdRange(700_000_000, 700_000_000)
    subgid.write_text("alice:100000:65536\n")
    with pytest.raises(UserError, match="no subordinate gid range") as info:
        image.id_range()
    assert "\n" not in str(info.value) and "make setup" in str(info.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_shift_ids_gives_the_tree_to_the_range_and_keeps_modes(tmp_path):
    root = tmp_path / "tree"
    (root / "usr/bin").mkdir(parents=True)
    tool = root / "usr/bin/passwd"
    tool.write_text("x")
    os.chmod(tool, 0o4755)  # chown clears set-id bits: they must come back
    os.chown(root / "usr", 0, 50)
    (root / "bin").symlink_to("usr/bin")
    assert image.shift_ids(root, IdRange(700_000_000, 700_000_100)) == 5
    assert (tool.stat().st_uid, tool.stat().st_gid) == (700_000_000, 700_000_100)
    assert stat.S_IMODE(tool.stat().st_mode) == 0o4755
    assert (root / "usr").stat().st_gid == 700_000_150
    assert os.lstat(root / "bin").st_uid == 700_000_000
    assert image.shift_ids(root, IdRange(700_000_000, 700_000_100)) == 0  # already shifted: nothing to do


def test_building_needs_root_and_mmdebstrap(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match="needs root"):
        image.build(image_spec(ids=IDS))
