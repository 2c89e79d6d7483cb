"""The Acl probe (stat + getfacl) against outputs recorded on a virtual host (recorded/acl/README.txt)."""

from __future__ import annotations

import shlex

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.acl import (
    Acl,
    PathAcl,
    effective,
    entry_key,
    entry_text,
    mask_perms,
    parse_getfacl,
)
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded

REC = Recorded("acl")
RECORDED, RUNS = REC.path, REC.runs


def replay(name: str) -> PathAcl:
    return REC.replay(Acl(RUNS[name]["path"]), name)


def test_directory_with_named_entries_and_default_acl():
    found = replay("acl-dir-extended")
    assert (found.exists, found.type, found.mode, found.mode_text) == (True, "directory", 0o2770, "2770")
    assert (found.owner, found.group) == ("root", "salaries")
    assert found.access == {
        "user::": "rwx", "user:ddubois": "r-x", "user:apetit": "r-x", "group::": "rwx",
        "group:salaries": "r-x", "mask::": "rwx", "other::": "---",
    }
    assert found.default == {
        "user::": "rwx", "user:ddubois": "r-x", "user:apetit": "r-x", "group::": "rwx",
        "mask::": "rwx", "other::": "---",
    }
    assert found.extended
    assert list(found.access) == ["user::", "user:ddubois", "user:apetit", "group::", "group:salaries",
                                  "mask::", "other::"], "entries keep getfacl's order"


def test_file_that_inherited_a_default_acl():
    found = replay("acl-file-inherited")
    assert (found.type, found.mode, found.group) == ("file", 0o660, "salaries")
    # getfacl writes the entry as set and the effective rights in a comment: the mask (rw-) applies.
    assert found.access["user:ddubois"] == "r-x"
    assert found.effective("user:ddubois") == "r--"
    assert found.effective("group::") == "rw-"
    assert found.effective("user::") == "rw-"  # the owner is never masked
    assert found.default == {}


def test_default_acl_of_the_three_base_entries_only():
    found = replay("acl-dir-default-only")
    assert found.mode_text == "0770"
    assert not found.extended
    assert found.default == {"user::": "rwx", "group::": "rwx", "other::": "---"}
    assert found.effective("group::", default=True) == "rwx"  # no mask: nothing limits


def test_plain_directory_without_acl():
    found = replay("acl-dir-plain")
    assert (found.mode_text, found.owner, found.group) == ("0750", "root", "salaries")
    assert found.access == {"user::": "rwx", "group::": "r-x", "other::": "---"}
    assert found.default == {} and not found.extended


def test_mask_limits_named_entries_and_the_owning_group():
    found = replay("acl-dir-masked")
    assert found.mode_text == "0755"  # the group bits of the mode are the mask
    assert found.access["user:groux"] == "rwx" and found.effective("user:groux") == "r-x"
    assert found.effective("group:atelier") == "r-x"
    assert found.effective("other::") == "r-x"
    assert found.effective("user:nobody") is None


def test_ids_without_names_and_the_sticky_bit():
    found = replay("acl-dir-unknown-ids")
    assert (found.owner, found.group) == ("4242", "4343")
    assert found.mode == 0o1777 and found.mode_text == "1777"


def test_path_with_spaces():
    found = replay("acl-file-spaces")
    assert found.path == RUNS["acl-file-spaces"]["path"]
    assert found.access["user:groux"] == "rw-" and found.mode_text == "0664"


def test_symlink_is_not_followed():
    found = replay("acl-symlink")
    assert (found.exists, found.type) == (True, "symlink")
    assert found.access == {} and found.default == {}


def test_missing_path():
    assert replay("acl-missing") == PathAcl(RUNS["acl-missing"]["path"], exists=False)


def test_parse_getfacl_several_paths_and_escapes():
    text = (RECORDED / "acl-dir-extended.out").read_text().split("\n", 1)[1]
    text += "\n# file: /srv/a\\040b\n# owner: ann\\134x\n# group: 0\nuser::rw-\ngroup::r--\nother::r--\n"
    items = parse_getfacl(text)
    assert [i.path for i in items] == ["/srv/rec/shared", "/srv/a b"]
    assert items[0].flags == "-s-" and items[1].flags == "---"
    assert items[1].owner == "ann\\x" and items[1].access["other::"] == "r--"


@pytest.mark.parametrize("output", [
    "",                                           # no stat line
    "41f8 0 0 root\n",                            # a field missing
    "zz 0 0 root root\n# file: /x\n",             # not a mode
    "41f8 0 0 root root\nuser::rwx\n",            # entries before '# file:'
    "41f8 0 0 root root\n# file: /x\n# owner: root\n# group: root\nuser:rwx\n",  # bad entry
    "41f8 0 0 root root\n# file: /x\n# owner: root\n# group: root\n# flags: xyz\nuser::rwx\n",
    "41f8 0 0 root root\n# file: /x\n# group: root\nuser::rwx\n",  # no owner
    "41f8 0 0 root root\n",                       # a directory without getfacl output
])
def test_unexpected_output_is_a_probe_error(output):
    with pytest.raises(ProbeError) as info:
        Acl("/x").evaluate(CommandResult(Acl("/x").command(), 0, output, ""))
    assert "\n" not in str(info.value) and "Acl" in str(info.value)


def test_other_failures_are_probe_errors():
    with pytest.raises(ProbeError):
        Acl("/x").evaluate(CommandResult(Acl("/x").command(), 127, "", "sh: 1: getfacl: not found"))


def test_quoting_of_hostile_paths():
    path = "/srv/my dir/a;b $(touch x) 'q'"
    # split as sh does, with ; || && as tokens of their own: the path is always one whole word
    words = list(shlex.shlex(Acl(path).command(), posix=True, punctuation_chars=True))
    assert words.count(path) == 5 and "$(touch" not in " ".join(w for w in words if w != path)


def test_helpers():
    assert entry_key("user") == "user::" and entry_key("group", "rh") == "group:rh"
    assert entry_text("user::", "rwx") == "user::rwx" and entry_text("group:rh", "r-x") == "group:rh:r-x"
    assert mask_perms("rwx", "r--") == "r--" and mask_perms("r-x", None) == "r-x"
    entries = {"user::": "rwx", "user:a": "rwx", "group::": "rwx", "mask::": "r-x", "other::": "rwx"}
    assert [effective(entries, k) for k in ("user::", "user:a", "group::", "mask::", "other::", "x")] == [
        "rwx", "r-x", "r-x", "r-x", "rwx", None,
    ]
