"""A class on the virtual lab: one isolated copy of a lab per trainee.

Each copy is an ordinary instance (``<lab>-<trainee id>``) with its own core namespace, switches,
management network and hosts, so names and addresses never collide between trainees and a
trainee's hosts cannot reach a neighbour's. Copies are built a few at a time (building is mostly
waiting on ``ip`` and on sshd starting); if one fails, every copy built by this call is removed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..classes import Classroom, instance_name
from ..errors import UserError
from ..labfile import Lab
from .lab import VirtualLab, _ensure_state_fs, require_root

BUILDERS = 4


def build_class(lab: Lab, classroom: Classroom, seeds: dict[str, int]) -> list[str]:
    require_root()
    vlabs = [VirtualLab(lab, instance_name(lab.id, trainee)) for trainee in classroom.trainees]
    already = [v.instance for v in vlabs if v.is_up()]
    if already:
        raise UserError(f"already up: {', '.join(already)} (tspcr-lab down {lab.id} --class FILE first)")
    _ensure_state_fs()
    names = {v.instance: trainee for v, trainee in zip(vlabs, classroom.trainees)}

    def build(vlab: VirtualLab) -> None:
        trainee = names[vlab.instance]
        vlab.up(seeds[trainee.id], trainee.name)

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


def down_class(lab: Lab, classroom: Classroom) -> list[str]:
    require_root()
    vlabs = [VirtualLab(lab, instance_name(lab.id, trainee)) for trainee in classroom.trainees]
    with ThreadPoolExecutor(BUILDERS) as pool:
        removed = pool.map(lambda v: v.down(quiet=True), vlabs)
    return [name for names in removed for name in names]
