"""`tryon query` only reads the catalogue: SQL cannot write files, attach databases, read other
files, reach the network or undo these limits; `--format parquet --out` still writes, through
the CLI itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue, utc_now

RUN_ID = "20260101T000000-aaaaaa"


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    catalogue = Catalogue(tmp_path / "c").create()
    catalogue.write_results(RUN_ID, "shard-00000", [{"pair_id": "a", "status": "succeeded", "row_index": 0,
                                                     "finished_at": utc_now()}], result_schema([], {}))
    catalogue.write_run({"run_id": RUN_ID, "status": "finished", "kind": "run"})
    return catalogue


def _forbidden(catalogue: Catalogue, outside: Path) -> dict[str, tuple[str, Path | None]]:
    injected = catalogue.results_dir / f"run_id={RUN_ID}" / "shard-99999.parquet"
    secret = outside / "secret.txt"
    secret.write_text("do not read me")
    return {
        "copy_into_results": (f"COPY (SELECT * FROM results) TO '{injected}' (FORMAT parquet)", injected),
        "copy_csv": (f"COPY (SELECT 1) TO '{outside / 'out.csv'}'", outside / "out.csv"),
        "export_database": (f"EXPORT DATABASE '{outside / 'export'}'", outside / "export"),
        "attach": (f"ATTACH '{outside / 'new.duckdb'}' AS other", outside / "new.duckdb"),
        "read_text": (f"SELECT * FROM read_text('{secret}')", None),
        "read_csv": (f"SELECT * FROM read_csv('{secret}')", None),
        "read_parquet_elsewhere": (f"SELECT * FROM read_parquet('{catalogue.runs_dir}/*.parquet')", None),
        "glob": ("SELECT * FROM glob('/etc/*')", None),
        "install_httpfs": ("INSTALL httpfs", None),
        "load_httpfs": ("LOAD httpfs", None),
        "remote_read": ("SELECT * FROM read_parquet('https://example.com/x.parquet')", None),
        "re_enable": ("SET enable_external_access = true", None),
        "unlock": ("SET lock_configuration = false", None),
    }


@pytest.mark.parametrize("name", ["copy_into_results", "copy_csv", "export_database", "attach", "read_text",
                                  "read_csv", "read_parquet_elsewhere", "glob", "install_httpfs", "load_httpfs",
                                  "remote_read", "re_enable", "unlock"])
def test_query_refuses_anything_but_reading_the_views(catalogue: Catalogue, tmp_path: Path, capsys, name: str):
    from flows.cli import main

    outside = tmp_path / "outside"
    outside.mkdir()
    sql, must_not_exist = _forbidden(catalogue, outside)[name]
    assert main(["query", "--catalogue", str(catalogue.root), sql]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tryon: error: query failed"), err
    # refused by the connection's configuration, not by chance (no network here, a missing folder)
    assert any(word in err[0] for word in ("disabled", "Permission Error", "locked")), err
    assert "do not read me" not in "\n".join(err)
    if must_not_exist is not None:
        assert not must_not_exist.exists()
    assert [path.name for path in catalogue.results_dir.rglob("*")] == [f"run_id={RUN_ID}", "shard-00000.parquet"]


def test_queries_and_parquet_output_still_work(catalogue: Catalogue, tmp_path: Path, capsys):
    from flows.cli import main

    out = tmp_path / "rows.parquet"
    assert main(["query", "--catalogue", str(catalogue.root), "--format", "parquet", "--out", str(out),
                 "SELECT r.pair_id, r.run_id, n.status AS run_status FROM latest r JOIN runs n USING (run_id)"]) == 0
    assert pd.read_parquet(out).to_dict("records") == [{"pair_id": "a", "run_id": RUN_ID, "run_status": "finished"}]
    assert main(["query", "--catalogue", str(catalogue.root), "--format", "csv",
                 "CREATE TEMP TABLE t AS SELECT 1 AS one; SELECT * FROM results"]) == 0  # memory only
    assert "a," in capsys.readouterr().out
