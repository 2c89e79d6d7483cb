"""What an archive is, from its first bytes, and what its name promises."""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile

from tspcr_lab.probes.accounts import Compression, compression_named
from tspcr_lab.transport.base import CommandResult


def first_bytes_as_od(data: bytes) -> str:
    return subprocess.run(["od", "-An", "-tx1"], input=data[:6], capture_output=True).stdout.decode()


def tar_bytes(mode: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        info = tarfile.TarInfo("u/.signature")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    return out.getvalue()


def test_compression_is_read_from_the_first_bytes():
    probe = Compression("/srv/a.tar.gz")
    assert probe.evaluate(CommandResult("", 0, first_bytes_as_od(tar_bytes("w:gz")), "")) == "gzip"
    assert probe.evaluate(CommandResult("", 0, first_bytes_as_od(tar_bytes("w:bz2")), "")) == "bzip2"
    assert probe.evaluate(CommandResult("", 0, first_bytes_as_od(tar_bytes("w:xz")), "")) == "xz"
    assert probe.evaluate(CommandResult("", 0, first_bytes_as_od(tar_bytes("w")), "")) == "none"
    assert probe.evaluate(CommandResult("", 0, first_bytes_as_od(gzip.compress(b"x")), "")) == "gzip"
    assert probe.evaluate(CommandResult("", 3, "", "")) is None  # no such file


def test_what_a_name_promises():
    assert compression_named("/srv/archives/x-profil.tar.gz") == "gzip"
    assert compression_named("x.tgz") == "gzip" and compression_named("x.tar.bz2") == "bzip2"
    assert compression_named("x.tar") == "none" and compression_named("x.backup") is None
