"""The virtual hosts' own root file system (the *image*) and the id range their root maps to.

Every virtual host runs on an overlay whose read-only lower layer is this image: a Debian root
file system built once with ``mmdebstrap`` from Debian's repositories (``tspcr-lab image build``,
run by ``make setup``), holding the base packages of ``data/image.toml`` and every lab's
``[lab] packages``. Nothing of the machine's own file system (its ``/etc``, keys, home folders,
the checkout, class files) is in it, and packages installed on the machine later change nothing
in the hosts. The image is named by a digest of what it holds (suite, variant, packages, the id
range, the build recipe), so a changed package list builds a new image, and an unchanged one is
reused.

Hosts are unprivileged, as unprivileged LXC containers are: root inside a host is mapped to the
first id of a subordinate range of the machine's root (``/etc/subuid``, ``/etc/subgid``), an id
that owns nothing on the machine. The image's files are owned by that range, so that they are
the host's root's files inside and nobody's outside.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import time
import tomllib
from importlib import resources
from pathlib import Path
from typing import Iterable

from ..errors import UserError

IMAGE_ROOT = Path(os.environ.get("TSPCR_IMAGE_DIR", "/var/lib/tspcr-lab"))
RECIPE_VERSION = 1  # bump when the customisation below changes: the image is then built again
ID_COUNT = 65536  # ids 0-65535 inside a host (nobody is 65534)
DEFAULT_ID_BASE = 700_000_000  # above useradd's SUB_UID_MAX: no user's subordinate range is here
SUBID_FILES = {"uid": Path("/etc/subuid"), "gid": Path("/etc/subgid")}


@dataclasses.dataclass(frozen=True)
class IdRange:
    """Host root (0 inside) is ``uid``/``gid`` outside, and the next ``count - 1`` ids follow."""

    uid: int
    gid: int
    count: int = ID_COUNT

    def unshare_args(self) -> list[str]:
        return [f"--map-users={self.uid},0,{self.count}", f"--map-groups={self.gid},0,{self.count}"]


def _ranges(path: Path, user: str = "root") -> list[tuple[int, int]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] == user and parts[1].isdigit() and parts[2].isdigit():
            out.append((int(parts[1]), int(parts[2])))
    return out


def id_range() -> IdRange:
    """The subordinate range the hosts' ids map to: root's first range of at least 65536 ids."""
    found = {}
    for kind, path in SUBID_FILES.items():
        ranges = [start for start, count in _ranges(path) if count >= ID_COUNT]
        if not ranges:
            raise UserError(f"no subordinate {kind} range of {ID_COUNT} ids for root in {path}: run make setup "
                            f"(or: usermod --add-sub{kind}s {DEFAULT_ID_BASE}-{DEFAULT_ID_BASE + ID_COUNT - 1} root)")
        found[kind] = ranges[0]
    return IdRange(found["uid"], found["gid"])


def ensure_id_range() -> IdRange:
    """Give root a subordinate range for the hosts if it has none (as ``make setup`` does)."""
    try:
        return id_range()
    except UserError:
        pass
    last = DEFAULT_ID_BASE + ID_COUNT - 1
    for kind, path in SUBID_FILES.items():
        taken = [(s, s + c - 1) for line in (path.read_text().splitlines() if path.exists() else [])
                 for s, c in [_parse_any(line)] if c]
        if any(not (end < DEFAULT_ID_BASE or start > last) for start, end in taken):
            raise UserError(f"{path}: ids {DEFAULT_ID_BASE}-{last} are already given to someone: "
                            f"give root a free range of {ID_COUNT} ids there")
    subprocess.run(["usermod", f"--add-subuids={DEFAULT_ID_BASE}-{last}", f"--add-subgids={DEFAULT_ID_BASE}-{last}",
                    "root"], check=True, capture_output=True)
    return id_range()


def _parse_any(line: str) -> tuple[int, int]:
    parts = line.strip().split(":")
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return 0, 0


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    suite: str
    variant: str
    packages: tuple[str, ...]
    ids: IdRange
    debs: tuple[str, ...] = ()  # packages whose .deb stays in the image's apt cache (labs' cached_debs)

    @property
    def id(self) -> str:
        text = json.dumps([RECIPE_VERSION, self.suite, self.variant, self.packages, self.ids.uid, self.ids.gid,
                           *([list(self.debs)] if self.debs else [])])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def folder(self) -> Path:
        return IMAGE_ROOT / "images" / self.id

    @property
    def rootfs(self) -> Path:
        return self.folder / "rootfs"

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    def built(self) -> bool:
        return self.manifest.is_file()


def image_spec(labs: Iterable | None = None, ids: IdRange | None = None) -> ImageSpec:
    """What the image holds: the base packages and those of every lab (all known labs by default)."""
    from ..labfile import available_labs, load_lab

    data = tomllib.loads(resources.files("tspcr_lab.data").joinpath("image.toml").read_text(encoding="utf-8"))
    base = data["image"]
    packages, debs = set(base["packages"]), set()
    for lab in labs if labs is not None else [load_lab(name) for name in available_labs()]:
        packages.update(lab.packages)
        debs.update(lab.cached_debs)
    packages.update(debs)
    return ImageSpec(base["suite"], base["variant"], tuple(sorted(packages)), ids or id_range(), tuple(sorted(debs)))


def current_rootfs() -> Path:
    """The built image the hosts start from (a one-line UserError when it is not built yet)."""
    spec = image_spec()
    if not spec.built():
        raise UserError("the virtual hosts' root file system is not built for the current package list: "
                        "run make setup (or tspcr-lab image build)")
    return spec.rootfs


# -- building -------------------------------------------------------------------------------------

def _customize(root: Path, keep: tuple[str, ...] = ()) -> None:
    """Make the fresh tree an image: no identity of its own (each host gets one at its first boot)
    and no configuration that would make a daemon fail on a host that does not use it."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostname").unlink(missing_ok=True)
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text("# no DNS server configured\n")
    if (root / "etc/postfix").is_dir() and not (root / "etc/postfix/main.cf").exists():
        # Postfix installed "without configuration" has no main.cf: its ifupdown hooks then make
        # postconf fail, and postfix sleeps a second on every fatal error, so every ifup would pay it.
        (root / "etc/postfix/main.cf").write_text("# postfix is not configured on this host (its defaults apply)\n")
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (root / cache).glob("*"):
            if entry.is_file() and not (cache.endswith("archives") and entry.name.split("_")[0] in keep
                                        and entry.name.endswith(".deb")):
                entry.unlink()


def shift_ids(root: Path, ids: IdRange) -> int:
    """Give every file of ``root`` to the hosts' range (uid 0 -> ids.uid...), keeping modes
    (chown clears set-id bits, which are put back). Returns how many entries were changed."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for path in [dirpath, *(os.path.join(dirpath, name) for name in filenames)]:
            st = os.lstat(path)
            if st.st_uid >= ids.uid:
                continue
            os.lchown(path, st.st_uid + ids.uid, st.st_gid + ids.gid)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(path, stat.S_IMODE(st.st_mode))
            changed += 1
        for name in dirnames:  # symlinks to folders are listed as folders but not walked into
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                st = os.lstat(path)
                if st.st_uid < ids.uid:
                    os.lchown(path, st.st_uid + ids.uid, st.st_gid + ids.gid)
                    changed += 1
    return changed


def _size(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    return total


def build(spec: ImageSpec | None = None, *, log=print) -> ImageSpec:
    """Build the image if it is not built yet (a lock makes concurrent builds wait for one)."""
    if os.geteuid() != 0:
        raise UserError("building the virtual hosts' root file system needs root")
    if shutil.which("mmdebstrap") is None:
        raise UserError("mmdebstrap is not installed: run make setup (or apt-get install mmdebstrap uidmap)")
    spec = spec or image_spec(ids=ensure_id_range())
    for folder in (IMAGE_ROOT, IMAGE_ROOT / "images"):
        folder.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(folder, 0o711)  # hosts' root traverses it to mount its lower layer, lists nothing
    with open(IMAGE_ROOT / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if spec.built():
            return spec
        work = IMAGE_ROOT / "images" / f".build-{spec.id}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(mode=0o711)
        t0 = time.monotonic()
        log(f"building the hosts' root file system {spec.id} ({spec.suite}, {len(spec.packages)} packages)...")
        argv = ["mmdebstrap", "--mode=root", f"--variant={spec.variant}",
                "--aptopt=Apt::Install-Recommends \"false\"",
                "--essential-hook=echo 'postfix postfix/main_mailer_type select No configuration' "
                "| chroot \"$1\" debconf-set-selections",
                *(["--skip=cleanup/apt/cache"] if spec.debs else []),  # _customize keeps those of spec.debs
                f"--include={','.join(spec.packages)}", spec.suite, str(work / "rootfs")]
        with open(work / "build.log", "wb") as out:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            lines = (work / "build.log").read_text(errors="replace").strip().splitlines()
            raise UserError(f"mmdebstrap failed ({work / 'build.log'}): {lines[-1] if lines else 'no output'}")
        _customize(work / "rootfs", spec.debs)
        missing = [name for name in spec.debs
                   if not list((work / "rootfs/var/cache/apt/archives").glob(f"{name}_*.deb"))]
        if missing:
            raise UserError(f"the image's apt cache lacks the .deb of {', '.join(missing)} (cached_debs)")
        shift_ids(work / "rootfs", spec.ids)
        os.chmod(work / "rootfs", 0o755)
        manifest = {"id": spec.id, "suite": spec.suite, "variant": spec.variant, "packages": list(spec.packages),
                    "uid": spec.ids.uid, "gid": spec.ids.gid, "built": time.time(),
                    "seconds": round(time.monotonic() - t0, 1), "bytes": _size(work / "rootfs")}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
        work.rename(spec.folder)
        log(f"built {spec.id} in {manifest['seconds']} s, {manifest['bytes'] / 2**20:.0f} MiB")
        return spec


def installed(spec: ImageSpec) -> dict:
    return json.loads(spec.manifest.read_text()) if spec.built() else {}


def prune(keep: set[str], *, log=print) -> list[str]:
    """Remove built images other than ``keep`` (ids): old package lists no instance uses."""
    removed = []
    folder = IMAGE_ROOT / "images"
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.name not in keep and (entry / "manifest.json").is_file():
            shutil.rmtree(entry)
            removed.append(entry.name)
            log(f"removed the unused image {entry.name}")
    return removed
