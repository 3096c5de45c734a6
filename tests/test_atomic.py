from pathlib import Path

import pytest

from tryon.atomic import atomic_directory, atomic_path, atomic_write_bytes, remove_stale_temps


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path):
    target = atomic_write_bytes(tmp_path / "a.parquet", b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["a.parquet"]


def test_temp_names_are_hidden_from_parquet_globs(tmp_path: Path):
    with atomic_path(tmp_path / "x.parquet") as temp:
        temp.write_bytes(b"data")
        assert temp.name.startswith(".") and not temp.name.endswith(".parquet")
        assert list(tmp_path.glob("*.parquet")) == []
    assert (tmp_path / "x.parquet").read_bytes() == b"data"


def test_atomic_directory_appears_complete_or_not_at_all(tmp_path: Path):
    with pytest.raises(ValueError):
        with atomic_directory(tmp_path / "entry") as temp:
            (temp / "one").write_text("1")
            raise ValueError
    assert not (tmp_path / "entry").exists()
    with atomic_directory(tmp_path / "entry") as temp:
        (temp / "one").write_text("1")
    assert (tmp_path / "entry" / "one").read_text() == "1"
    assert remove_stale_temps(tmp_path) == 0
