"""A lab's own certificate authority, written once for every lab that serves TLS (mail-client,
proxy): a CA and one server certificate for a list of names, made by openssl on the grader's
machine when the deploy is prepared, the same for every host of one deploy run.

``lab_pki(state, key, ca_name, names)`` -> ``{"ca.crt", "server.key", "server.crt"}`` (PEM text),
kept on pyinfra's ``state`` under ``key`` so that each host's pass over the deploy file gets the
same CA (the server's certificate and the clients' trust store must match).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def make_pki(ca_name: str, names: list[str]) -> dict[str, str]:
    """A CA (EC key, self-signed, 10 years) and a server key and certificate for every one of
    ``names`` (subjectAltName; the first is the CN), signed by it."""
    with tempfile.TemporaryDirectory() as tmp:
        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
        openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650", "-subj", f"/O={ca_name}/CN={ca_name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", "ca.crt")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key")
        openssl("req", "-new", "-key", "server.key", "-subj", f"/CN={names[0]}", "-out", "server.csr")
        (Path(tmp) / "ext.cnf").write_text(f"subjectAltName={','.join('DNS:' + n for n in names)}\nbasicConstraints=CA:FALSE\n"
                                           "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "825", "-sha256", "-extfile", "ext.cnf", "-out", "server.crt")
        return {name: (Path(tmp) / name).read_text() for name in ("ca.crt", "server.key", "server.crt")}


def lab_pki(state, key: str, ca_name: str, names: list[str]) -> dict[str, str]:
    """:func:`make_pki` once per deploy run (kept on pyinfra's ``state``)."""
    pki = getattr(state, key, None)
    if pki is None:
        pki = make_pki(ca_name, names)
        setattr(state, key, pki)
    return pki
