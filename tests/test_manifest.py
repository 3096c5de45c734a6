import os
from pathlib import Path

import pandas as pd
import pytest

from tryon.errors import ManifestError
from tryon.manifest import validate_manifest

from tests.conftest import make_image, write_manifest


def _good(root: Path, pair_id: str, **overrides) -> dict:
    make_image(root / "people" / f"{pair_id}.png")
    make_image(root / "garments" / f"{pair_id}.png", colour=(10, 10, 200))
    row = {"pair_id": pair_id, "person_image": f"people/{pair_id}.png", "garment_image": f"garments/{pair_id}.png",
           "category": "upper_body"}
    row.update(overrides)
    return row


def test_sample_manifest_is_valid(sample_dir: Path):
    validated = validate_manifest(sample_dir / "manifest.parquet")
    assert validated.total_rows == 5 and len(validated.pairs) == 5 and not validated.failures
    first = validated.pairs[0]
    assert first.person_image.is_file() and len(first.person_sha256) == 64
    assert first.extras == {"sku": "TS-RED-01"}


def test_bad_rows_fail_alone_with_specific_errors(tmp_path: Path):
    outside = tmp_path.parent / f"outside-{tmp_path.name}.png"
    make_image(outside)
    data = tmp_path / "data"
    rows = [
        _good(data, "ok1", seed=5),
        _good(data, "dup"),
        _good(data, "dup"),
        _good(data, "cat", category="hats"),
        _good(data, "missing", person_image="people/none.png"),
        _good(data, "escape", person_image="../../etc/passwd"),
        _good(data, "absolute", garment_image=str(outside)),
        _good(data, "text", person_image="people/text.jpg"),
    ]
    (data / "people" / "text.jpg").write_text("not an image")
    os.symlink(outside, data / "people" / "link.png")
    rows.append(_good(data, "symlink", person_image="people/link.png"))
    validated = validate_manifest(write_manifest(data / "manifest.parquet", rows))
    by_id = {failure.pair_id: failure for failure in validated.failures}
    assert sorted(pair.pair_id for pair in validated.pairs) == ["dup", "ok1"]
    assert validated.pairs[0].seed == 5 or validated.pairs[1].seed == 5
    expected = {
        "cat": "unknown_category", "missing": "missing_file", "escape": "path_outside_root",
        "absolute": "path_outside_root", "text": "not_an_image", "symlink": "path_outside_root",
    }
    for pair_id, error_type in expected.items():
        assert by_id[pair_id].error_type == error_type, by_id[pair_id]
        assert f"pair_id {pair_id!r}" in by_id[pair_id].error_message
    duplicate = [failure for failure in validated.failures if failure.error_type == "duplicate_pair_id"]
    assert len(duplicate) == 1 and duplicate[0].row_index == 2 and "row 1" in duplicate[0].error_message


def test_data_root_allows_absolute_paths_inside_it(tmp_path: Path):
    data = tmp_path / "data"
    row = _good(data, "abs")
    row["person_image"] = str(data / "people" / "abs.png")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    row["garment_image"] = str(data / "garments" / "abs.png")
    validated = validate_manifest(write_manifest(manifests / "m.parquet", [row]), data_root=data)
    assert len(validated.pairs) == 1


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"pair_id": ["a"], "person_image": ["p.png"], "garment_image": ["g.png"]}), "lacks required column"),
        (pd.DataFrame({"pair_id": [1], "person_image": ["p"], "garment_image": ["g"], "category": ["upper_body"]}), "must hold strings"),
        (pd.DataFrame({"pair_id": ["a", None], "person_image": ["p", "p"], "garment_image": ["g", "g"],
                       "category": ["upper_body"] * 2}), "is empty in row"),
        (pd.DataFrame({"pair_id": pd.Series([], dtype=str), "person_image": pd.Series([], dtype=str),
                       "garment_image": pd.Series([], dtype=str), "category": pd.Series([], dtype=str)}), "no rows"),
        (pd.DataFrame({"pair_id": ["a"], "person_image": ["p"], "garment_image": ["g"], "category": ["upper_body"],
                       "seed": ["x"]}), "'seed' must hold integers"),
    ],
)
def test_manifest_level_errors_stop_with_one_message(tmp_path: Path, frame: pd.DataFrame, message: str):
    path = tmp_path / "m.parquet"
    frame.to_parquet(path)
    with pytest.raises(ManifestError, match=message):
        validate_manifest(path)


def test_not_parquet_is_a_manifest_error(tmp_path: Path):
    path = tmp_path / "m.parquet"
    path.write_text("pair_id,person_image\n")
    with pytest.raises(ManifestError, match="not a readable Parquet"):
        validate_manifest(path)


def test_only_pair_ids_restricts_the_rows(tmp_path: Path):
    data = tmp_path / "data"
    manifest = write_manifest(data / "m.parquet", [_good(data, "a"), _good(data, "b")])
    assert [pair.pair_id for pair in validate_manifest(manifest, only_pair_ids=["b"]).pairs] == ["b"]
