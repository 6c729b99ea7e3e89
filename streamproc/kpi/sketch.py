"""Log-bucketed duration histogram with a 1 % relative error bound on percentiles.

Bucket i holds durations in (γ^(i-1), γ^i] seconds, with γ = (1 + α) / (1 - α) and
α = 0.01. Reporting 2γ^i / (γ + 1) for a bucket is then within α of every value in it.
The buckets are plain counters, so histograms merge and retract exactly like the
other aggregates. The same construction is known as DDSketch (Masson et al., VLDB 2019).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
ZERO_BUCKET = "z"


def bucket_of(seconds: float) -> str:
    """Return the histogram bucket name of a non-negative duration."""
    if seconds <= 0:
        return ZERO_BUCKET
    return str(math.ceil(math.log(seconds) / _LOG_GAMMA))


def bucket_value(bucket: str) -> float:
    """Return the value a bucket reports: 0 for the zero bucket, else 2γ^i / (γ + 1)."""
    if bucket == ZERO_BUCKET:
        return 0.0
    return 2 * GAMMA ** int(bucket) / (GAMMA + 1)


def _order(bucket: str) -> float:
    return -math.inf if bucket == ZERO_BUCKET else int(bucket)


def percentile(counts: Mapping[str, int], percent: int) -> float | None:
    """Return the nearest-rank percentile (the value of rank ⌈percent·n/100⌉) from bucket counts.

    The rank is computed in integers, so no floating-point rounding moves it.
    """
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for bucket in sorted(counts, key=_order):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(counts, key=_order))


def maximum(counts: Mapping[str, int]) -> float | None:
    """Return the value of the highest non-empty bucket."""
    present = [bucket for bucket, count in counts.items() if count > 0]
    if not present:
        return None
    return bucket_value(max(present, key=_order))
