"""Only files inside the catalogue or a data root are served; crafted paths are refused."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tryon.review.confine import openable_path, servable_file


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)
    return path


def test_inside_files_are_served_with_an_image_type(tmp_path):
    root = tmp_path / "catalogue"
    image = _png(root / "images" / "outputs" / "ab" / "x.png")
    assert servable_file(root, "images/outputs/ab/x.png") == (image.resolve(), "image/png")
    assert openable_path("images/outputs/ab/x.png", base=root, roots=[root]) == image.resolve()
    assert openable_path(str(image), base=tmp_path, roots=[tmp_path / "other", root]) == image.resolve()


def test_crafted_paths_are_refused(tmp_path):
    root = tmp_path / "catalogue"
    _png(root / "images" / "x.png")
    secret = _png(tmp_path / "secret.png")
    (root / "runs").mkdir()
    (root / "runs" / "run-1.parquet").write_bytes(b"PAR1")
    (root / "images" / "out.png").symlink_to(secret)
    (root / "images" / "dir.png").mkdir()
    for raw in ["../secret.png", "images/../../secret.png", "/" + str(secret).lstrip("/"), str(secret),
                "images/out.png", "runs/run-1.parquet", "images/x.png\x00", "", "images//x.png",
                "images\\..\\..\\secret.png", "images/dir.png", "images/missing.png", "%2e%2e/secret.png"]:
        assert servable_file(root, raw) is None, raw
    assert openable_path(str(secret), base=root, roots=[root]) is None
    assert openable_path("images/out.png", base=root, roots=[root]) is None  # symlink out
    assert openable_path("../secret.png", base=root, roots=[root]) is None
    assert openable_path(None, base=root, roots=[root]) is None
