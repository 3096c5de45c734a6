import os
from pathlib import Path

import pandas as pd
import pytest

from tryon.errors import ManifestError
from tryon.manifest import validate_manifest

from tests.conftest import TYPED_EXTRAS_WHEN, make_image, typed_extras, write_manifest


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


# -- reserved column names (issue 14, item 2) -------------------------------------------------

def _manifest_with(tmp_path: Path, **extra_columns) -> Path:
    data = tmp_path / "data"
    frame = pd.DataFrame([_good(data, "a")])
    for name, value in extra_columns.items():
        frame[name] = [value]
    frame.to_parquet(data / "m.parquet", index=False)
    return data / "m.parquet"


def test_every_catalogue_column_is_reserved_in_any_case(tmp_path: Path):
    from tryon.catalogue.schema import catalogue_columns
    from tryon.manifest import KNOWN_COLUMNS

    own = [name for name in catalogue_columns() if name not in KNOWN_COLUMNS]
    assert {"run_id", "status", "input_hash", "engine", "tryon_version", "preserve_ssim", "depth_image",
            "mask_overlay_image", "config_hash", "finished_at"} <= set(own)
    for spelling in (str.lower, str.upper, str.title):
        names = {spelling(name): "x" for name in own}
        with pytest.raises(ManifestError) as caught:
            validate_manifest(_manifest_with(tmp_path, **names))
        message = str(caught.value)
        assert message.count("\n") == 0  # one message naming them all
        for name in names:
            assert name in message


@pytest.mark.parametrize("name", ["_rank", "_status_rank", "__anything", "seconds_upload", "Seconds_Decode",
                                  "preserve_lpips", "gt_fid", "quality_niqe", "is_cropped", "has_alpha",
                                  "model_card", "Pair_ID", "SEED", "Person_Image"])
def test_view_internals_families_and_case_variants_are_refused(tmp_path: Path, name: str):
    with pytest.raises(ManifestError, match=f"reserved by the catalogue: {name} "):
        validate_manifest(_manifest_with(tmp_path, **{name: "x"}))


def test_a_column_added_to_the_schema_is_reserved_without_a_list_to_update(tmp_path: Path, monkeypatch):
    import pyarrow as pa

    from tryon.catalogue import schema

    manifest = _manifest_with(tmp_path, brand_new_column=1.0)
    assert validate_manifest(manifest).pairs[0].extras == {"brand_new_column": 1.0}
    monkeypatch.setattr(schema, "RESULT_FIELDS", schema.RESULT_FIELDS + [pa.field("brand_new_column", pa.float64())])
    with pytest.raises(ManifestError, match="brand_new_column"):
        validate_manifest(manifest)


def test_carried_columns_equal_ignoring_case_are_refused(tmp_path: Path):
    with pytest.raises(ManifestError, match="SKU .same name as sku"):
        validate_manifest(_manifest_with(tmp_path, sku="a", SKU="b"))


def test_ordinary_extras_and_a_saved_pandas_index_are_carried(tmp_path: Path):
    data = tmp_path / "data"
    frame = pd.DataFrame([_good(data, "a"), _good(data, "b")], index=["x", "y"])
    frame["sku"] = ["S1", "S2"]
    frame["brand"] = ["B", None]
    frame.to_parquet(data / "m.parquet")  # the index is stored as a column __index_level_0__
    validated = validate_manifest(data / "m.parquet")
    assert [pair.extras for pair in validated.pairs] == [{"sku": "S1", "brand": "B"}, {"sku": "S2", "brand": None}]


# -- typed extras and seed range (item 3) -----------------------------------------------------

def test_extras_keep_their_arrow_types_and_values(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    rows = [_good(data, "a"), _good(data, "b"), _good(data, "c")]
    base = pa.Table.from_pylist(rows)
    extras = typed_extras()
    table = base
    for name, values in extras.items():
        table = table.append_column(name, values)
    pq.write_table(table, data / "m.parquet")
    validated = validate_manifest(data / "m.parquet")
    assert {name: validated.extra_types[name] for name in extras} == {name: v.type for name, v in extras.items()}
    by_id = {pair.pair_id: pair.extras for pair in validated.pairs}
    assert by_id["a"]["colours"] == ["red"] and by_id["b"]["colours"] == ["red", "blue", "green"]
    assert by_id["c"]["dims"] == {"w": 2.0, "unit": "in"} and by_id["b"]["season"] == "aw26"
    assert by_id["a"]["listed_at"] == TYPED_EXTRAS_WHEN and by_id["b"]["listed_at"] is None
    assert by_id["a"]["attributes"] == [("fit", "slim")] and by_id["b"]["stock"] == 2**40


@pytest.mark.parametrize("seed, ok", [(0, True), (2**63 - 1, True), (2**63, False), (2**64 - 1, False), (-1, False)])
def test_seed_outside_int64_fails_its_row_up_front(tmp_path: Path, seed: int, ok: bool):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    table = pa.Table.from_pylist([_good(data, "a"), _good(data, "b")])
    table = table.append_column("seed", pa.array([seed, 1], pa.uint64() if seed >= 2**63 else pa.int64()))
    pq.write_table(table, data / "m.parquet")
    validated = validate_manifest(data / "m.parquet")
    assert [pair.pair_id for pair in validated.pairs] == (["a", "b"] if ok else ["b"])
    if not ok:
        (failure,) = validated.failures
        assert failure.error_type == "bad_seed" and str(seed) in failure.error_message
        assert "pair_id 'a'" in failure.error_message
