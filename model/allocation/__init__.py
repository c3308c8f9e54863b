"""The allocation LP (min largest burden + leximin), classic splits, rounding and Shapley values."""

from model.allocation.build import build_allocation_lp, write_lp
from model.allocation.inputs import GROUPS, AllocationInputs, AllocationResult
from model.allocation.rounding import largest_remainder, split_by_key
from model.allocation.shapley import shapley_values
from model.allocation.solve import SOLVERS, allocate_lp

__all__ = [
    "GROUPS",
    "SOLVERS",
    "AllocationInputs",
    "AllocationResult",
    "allocate_lp",
    "build_allocation_lp",
    "largest_remainder",
    "shapley_values",
    "split_by_key",
    "write_lp",
]
