"""Record NeomuttSettings("lrousseau").command() on broken configurations (see record_broken.sh)."""
import json, os, pathlib, shutil, subprocess

from tspcr_lab.probes.mail import NeomuttSettings

HOME = pathlib.Path("/home/lrousseau")
REC = pathlib.Path("/work/main/tests/unit/recorded/mail")
OUT = pathlib.Path("/tmp/rec-neomutt/out")
GOOD = (REC / "neomuttrc").read_bytes()
ALIASES = (REC / "aliases").read_bytes()


def reset():
    for child in HOME.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    (HOME / ".neomutt").mkdir()
    (HOME / ".neomutt/aliases").write_bytes(ALIASES)


def rc(data: bytes, mode=0o644):
    path = HOME / ".neomuttrc"
    path.write_bytes(data)
    path.chmod(mode)


CASES = {
    "solved": lambda: rc(GOOD),
    "rc-directory": lambda: (HOME / ".neomuttrc").mkdir(),
    "rc-unterminated-quote": lambda: rc(GOOD.replace(b'set from = "louis.rousseau@cabinet-moreau.lan"',
                                                     b'set from = "louis.rousseau@cabinet-moreau.lan')),
    "rc-unknown-command": lambda: rc(GOOD.replace(b"set use_from = yes", b"sett use_from = yes")),
    "rc-unknown-variable": lambda: rc(GOOD.replace(b"set use_from = yes", b"set use_frm = yes")),
    "rc-not-utf8": lambda: rc(GOOD.replace(b"Louis Rousseau", b"Lou\xefs Rousseau")),
    "rc-source-missing": lambda: rc(GOOD.replace(b"source ~/.neomutt/aliases", b"source ~/.neomutt/nothing")),
    "rc-unreadable": lambda: rc(GOOD, mode=0o000),
    "rc-none": lambda: None,
    "rc-stray-quote": lambda: rc(GOOD.replace(b"set use_from = yes", b"set use_from = yes\nn'oublie pas")),
    "source-directory": lambda: (rc(GOOD), (HOME / ".neomutt/aliases").unlink(), (HOME / ".neomutt/aliases").mkdir()),
    # NeoMutt reads the first of its rc files that exists, ~/.config/neomutt/neomuttrc before ~/.neomuttrc
    "xdg-directory": lambda: (rc(GOOD), (HOME / ".config/neomutt/neomuttrc").mkdir(parents=True)),
}

runs = {}
for name, make in CASES.items():
    reset()
    make()
    for p in [HOME, *HOME.rglob("*")]:
        os.lchown(p, 1500, 1500)
    command = NeomuttSettings("lrousseau").command()
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, timeout=30)
    (OUT / f"neomutt-D-{name}.out").write_bytes(done.stdout)
    runs[f"neomutt-D-{name}"] = {"command": command, "rc": done.returncode, "stderr": done.stderr.decode()}
    print(name, done.returncode, len(done.stdout), done.stdout[:300])
(OUT / "runs.json").write_text(json.dumps(runs, indent=1))
