"""A lab's parameters: what the trainee is given, and what the checks expect, from a seed.

Each lab's ``params.py`` defines ``generate(seed: int, lab: Lab) -> (params, expected)``. Both are
plain JSON-compatible dicts; the same seed always gives the same values, so another seed (another
trainee) gets another plan.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import secrets
from typing import Any

from .errors import UserError
from .labfile import Lab


@dataclasses.dataclass(frozen=True)
class LabParams:
    seed: int
    params: dict[str, Any]  # shown to the trainee
    expected: dict[str, Any]  # read by the checks, hidden from the trainee

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "params": self.params, "expected": self.expected}


def new_seed() -> int:
    return secrets.randbelow(10**6)


def parse_seed(value: str | int) -> int:
    try:
        seed = int(value)
    except (TypeError, ValueError):
        raise UserError(f"seed '{value}' is not a whole number") from None
    if seed < 0:
        raise UserError(f"seed {seed} must not be negative")
    return seed


def generate(lab: Lab, seed: int) -> LabParams:
    path = lab.path / "params.py"
    if not path.is_file():
        return LabParams(seed, {}, {})
    spec = importlib.util.spec_from_file_location(f"tspcr_lab_params_{lab.id.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    try:
        spec.loader.exec_module(module)
        params, expected = module.generate(seed, lab)
    except UserError:
        raise
    except Exception as exc:  # a lab author's bug: say where, on one line
        raise UserError(f"{path}: generate() failed: {type(exc).__name__}: {exc}") from None
    try:
        json.dumps([params, expected])
    except TypeError as exc:
        raise UserError(f"{path}: generate() must return JSON-compatible dicts: {exc}") from None
    return LabParams(seed, params, expected)
