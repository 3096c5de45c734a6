"""`tryon review` refuses what it must before it serves anything."""

from __future__ import annotations

from flows.cli import main as tryon_main

from tests.review.conftest import synthetic_catalogue


def test_no_auth_only_on_loopback_and_run_must_exist(tmp_path, capsys):
    synthetic_catalogue(tmp_path, 3)
    assert tryon_main(["review", "--catalogue", str(tmp_path), "--no-auth", "--host", "0.0.0.0"]) == 2
    assert "--no-auth is only allowed on a loopback address" in capsys.readouterr().err
    assert tryon_main(["review", "--catalogue", str(tmp_path), "--run", "nope", "--port", "0"]) == 2
    assert "run 'nope' is not in" in capsys.readouterr().err
    assert tryon_main(["review", "--catalogue", str(tmp_path / "missing")]) == 2
    assert "is not a tryon catalogue" in capsys.readouterr().err
