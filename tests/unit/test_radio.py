"""Radio VMs (tspcr_lab.virtual.radio) and their lab-file tables: what can be judged without
booting a VM (the e2e tests of wifi-security boot real ones)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.labfile import load_lab
from tspcr_lab.virtual import radio
from tspcr_lab.virtual.netns import VirtualLabError

REPO = Path(__file__).resolve().parents[2]


def test_wifi_lab_declares_its_radio_vm(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    lab = load_lab("wifi-security")
    assert [(r.name, r.mgmt, r.memory) for r in lab.radios] == [("air", "172.31.0.40", 256)]
    assert [h.name for h in lab.radio_hosts("air")] == ["ap1", "laptop"]
    assert lab.hosts["srv1"].radio is None and lab.hosts["ap1"].role == "ap"
    assert {"linux-image-amd64", "busybox-static", "hostapd", "wpasupplicant"} <= set(lab.packages)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO / "labs" / "wifi-security", tmp_path / "labs" / "wifi-security")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / "wifi-security" / "lab.toml"


@pytest.mark.parametrize("old, new, fragments", [
    ('radio = "air"\n\n[[hosts]]\nname = "laptop"', 'radio = "aire"\n\n[[hosts]]\nname = "laptop"',
     ["hosts[1].radio", "unknown radio VM 'aire'"]),
    ('mgmt = "172.31.0.40"', 'mgmt = "172.31.0.21"', ["hosts[0].mgmt", "172.31.0.21", "already used"]),
    ('mgmt = "172.31.0.40"', 'mgmt = "10.0.0.40"', ["radios[0].mgmt", "not in the management network"]),
    ('name = "air"', 'name = "Air"', ["radios[0].name", "'Air'"]),
    ('name = "air"\nmgmt', 'name = "air"\nmemory = 64\nmgmt', ["radios[0].memory", "64 MiB"]),
    ('name = "air"\nmgmt', 'name = "air"\nmemroy = 512\nmgmt', ["radios[0].memroy", "memory"]),
], ids=["unknown-radio", "mgmt-taken", "mgmt-outside", "bad-name", "too-little-memory", "typo"])
def test_radio_table_mistake_is_one_line(home, old, new, fragments):
    text = home.read_text()
    assert old in text
    home.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError) as info:
        load_lab("wifi-security")
    message = str(info.value)
    assert "\n" not in message and str(home) in message
    for fragment in fragments:
        assert fragment in message


def test_radio_vm_without_hosts_is_refused(home):
    home.write_text(home.read_text().replace('radio = "air"\n', ""))
    with pytest.raises(UserError, match="radio VM 'air' holds 0 hosts"):
        load_lab("wifi-security")


def _fake_kernel(root: Path, deps: dict[str, list[str]]) -> None:
    folder = root / "lib/modules/6.1.0-test"
    folder.mkdir(parents=True)
    (folder / "modules.dep").write_text("".join(f"{m}: {' '.join(d)}\n" for m, d in deps.items()))
    for module in deps:
        (folder / module).parent.mkdir(parents=True, exist_ok=True)
        (folder / module).write_bytes(b"\x7fELF" + module.encode())
    (root / "boot").mkdir()
    (root / "boot/vmlinuz-6.1.0-test").write_bytes(b"kernel")


def test_modules_load_after_what_they_need(tmp_path):
    _fake_kernel(tmp_path, {
        "k/virtio_ring.ko": [], "k/virtio.ko": ["k/virtio_ring.ko"],
        "k/virtio_pci.ko": ["k/virtio_pci_modern_dev.ko", "k/virtio.ko", "k/virtio_ring.ko"],
        "k/virtio_pci_modern_dev.ko": [], "k/9pnet.ko": [], "k/9pnet_virtio.ko": ["k/9pnet.ko", "k/virtio.ko"],
        "k/virtio-rng.ko": ["k/virtio.ko"],
    })
    order = radio._module_closure(tmp_path, "6.1.0-test", ("virtio_pci", "9pnet_virtio", "virtio-rng"))
    assert order.index("k/virtio_ring.ko") < order.index("k/virtio.ko") < order.index("k/virtio_pci.ko")
    assert order.index("k/9pnet.ko") < order.index("k/9pnet_virtio.ko")
    assert len(order) == len(set(order)) == 7
    with pytest.raises(VirtualLabError, match="no module overlay"):
        radio._module_closure(tmp_path, "6.1.0-test", ("overlay",))


def test_image_without_kernel_says_what_to_add(tmp_path):
    (tmp_path / "lib/modules").mkdir(parents=True)
    with pytest.raises(VirtualLabError, match="linux-image-amd64"):
        radio.kernel_of(tmp_path)


@pytest.mark.skipif(shutil.which("cpio") is None and shutil.which("busybox") is None, reason="no cpio to read it back")
def test_initramfs_archive_is_what_cpio_reads(tmp_path):
    data = radio._cpio([("bin", 0o40755, b""), ("bin/busybox", 0o100755, b"#!x" * 7), ("init", 0o100755, b"abc")])
    tool = ["cpio"] if shutil.which("cpio") else ["busybox", "cpio"]
    listing = subprocess.run([*tool, "-t"], input=data, capture_output=True, check=True).stdout.decode().split()
    assert listing == ["bin", "bin/busybox", "init"]
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run([*tool, "-i", "-d"], input=data, cwd=out, capture_output=True, check=True)
    assert (out / "bin/busybox").read_bytes() == b"#!x" * 7 and (out / "init").read_bytes() == b"abc"
