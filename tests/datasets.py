"""Location of the shared data sets, which tests read but the repository never contains.

The data sets carry no licence that allows redistribution, so they sit outside the
clone: in a `shared/datasets` folder beside the repository folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATASETS_ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def dataset_path(name: str, file: str) -> Path:
    """Return the path of `file` in the data set `name`, or skip the test when it is absent."""
    path = (DATASETS_ROOT / name / file).resolve()
    if not path.is_file():
        pytest.skip(
            f"data set file {name}/{file} not found at {path}; put the shared datasets"
            " folder beside the repository to run this test"
        )
    return path
