"""A class on the virtual lab: one isolated copy of a lab per trainee.

Each copy is an ordinary instance (``<lab>-<trainee id>``) with its own core namespace, switches,
management network and hosts, so names and addresses never collide between trainees and a
trainee's hosts cannot reach a neighbour's. Each copy records the class file it belongs to: a
second class whose trainee ids are the same on the same lab is refused on one line, and ``down
--class`` removes only its own class's copies. Copies are built a few at a time (building is
mostly waiting on ``ip`` and on services starting); if one fails, every copy built by this call
is removed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..classes import Classroom, instance_name
from ..errors import UserError
from ..labfile import Lab
from .lab import VirtualLab, _ensure_state_fs, load_instance_state, require_root

BUILDERS = 4


def build_class(lab: Lab, classroom: Classroom, seeds: dict[str, int]) -> list[str]:
    require_root()
    vlabs = [VirtualLab(lab, instance_name(lab.id, trainee)) for trainee in classroom.trainees]
    owner = class_owner(classroom)
    _ensure_state_fs()
    for vlab in vlabs:
        if vlab.is_up():
            state = load_instance_state(vlab.instance)
            if state.owner != owner:
                other = f"class {state.owner}" if state.owner else "a single trainee"
                raise UserError(f"{vlab.instance} is already up for {other}: this class's trainee ids collide "
                                f"with it on lab {lab.id} (take it down first, or use other trainee ids)")
            if not vlab.is_stale(state):
                raise UserError(f"already up: {vlab.instance} (tspcr-lab down {lab.id} --class {classroom.path} first)")
    names = {v.instance: trainee for v, trainee in zip(vlabs, classroom.trainees)}

    def build(vlab: VirtualLab) -> None:
        trainee = names[vlab.instance]
        vlab.up(seeds[trainee.id], trainee.name, owner=owner)

    errors = []
    with ThreadPoolExecutor(BUILDERS) as pool:
        for vlab, future in [(v, pool.submit(build, v)) for v in vlabs]:
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - reported below, after cleaning up
                errors.append(f"{vlab.instance}: {exc}")
    if errors:
        for vlab in vlabs:
            vlab.down(quiet=True)
        raise UserError(f"the class's labs could not be built: {errors[0]}")
    return [v.instance for v in vlabs]


def class_owner(classroom: Classroom) -> str:
    """How an instance names the class it belongs to: the class file's full path."""
    return str(classroom.path.resolve())


def down_class(lab: Lab, classroom: Classroom) -> list[str]:
    require_root()
    owner = class_owner(classroom)
    vlabs = [VirtualLab(lab, instance_name(lab.id, trainee)) for trainee in classroom.trainees]
    foreign = [v.instance for v in vlabs if v.is_up() and load_instance_state(v.instance).owner != owner]
    if foreign:
        raise UserError(f"not this class's: {', '.join(foreign)} (they belong to another class or trainee; "
                        f"nothing was removed)")
    with ThreadPoolExecutor(BUILDERS) as pool:
        removed = pool.map(lambda v: v.down(quiet=True), vlabs)
    return [name for names in removed for name in names]
