"""Known errors end as one or two lines without a traceback: before Prefect starts (preflight) and
inside a Prefect task; tampered or missing weights are named by `verify` and `run`; the tiny preset
runs end to end from the CLI on a fresh HF_HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tryon.catalogue as cat
from tests.conftest import REPO_ROOT, SAMPLE_DIR
from tests.tiny_models import tiny_hf_home  # noqa: F401 - fixture
from tryon.models.lock import get_preset
from tryon.models.registry import local_file

MANIFEST = SAMPLE_DIR / "manifest.parquet"


def cli(*argv: str, hf_home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`tryon ARGV` in a fresh interpreter, offline, with its own HF_HOME."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("HF_HUB_CACHE", None)
    return subprocess.run([sys.executable, "-m", "flows.cli", *argv], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_real_preset_with_empty_cache_exits_2_with_what_to_run(tmp_path):
    result = cli("run", str(MANIFEST), "--catalogue", str(tmp_path / "out"), "--engine", "sdxl", "--models", "sdxl",
                 hf_home=tmp_path / "empty-hf-home", timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("tryon: error: model preset 'sdxl' is not ready"), result.stderr
    assert "tryon models pull sdxl" in result.stderr and "tryon models lock sdxl" in result.stderr
    assert not (tmp_path / "out").exists()  # stopped before the run started


def _private_copy(hf_home: Path, target: Path) -> Path:
    """A copy of a built HF_HOME that shares file contents by hard links (the tests below replace the
    one file they alter, so the shared build stays intact)."""
    shutil.copytree(hf_home, target, symlinks=True, copy_function=os.link)
    return target


@pytest.mark.parametrize("damage", ["deleted", "one_byte_changed"])
def test_damaged_weight_file_fails_verify_and_run_naming_it(tiny_hf_home, tmp_path, monkeypatch, capsys,  # noqa: F811
                                                           damage):
    from flows.cli import main

    copy = _private_copy(tiny_hf_home, tmp_path / "hf-home")
    monkeypatch.setenv("HF_HOME", str(copy))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    unet = get_preset("tiny").components["base"]
    weights = local_file(unet, "unet/diffusion_pytorch_model.safetensors", copy / "hub")
    if damage == "deleted":
        weights.unlink()
    else:
        data = bytearray(Path(os.path.realpath(weights)).read_bytes())
        data[len(data) // 2] ^= 0x01
        weights.unlink()  # the snapshot entry becomes a real file; the shared blob is not touched
        weights.write_bytes(bytes(data))

    assert main(["models", "verify", "tiny"]) == 1
    out = capsys.readouterr().out
    assert "base file unet/diffusion_pytorch_model.safetensors" in out
    assert ("is missing" if damage == "deleted" else "has sha256") in out and "1 problem(s)" in out

    assert main(["run", str(MANIFEST), "--catalogue", str(tmp_path / "out"), "--engine", "sdxl",
                 "--models", "tiny", "-q"]) == 2
    err = capsys.readouterr().err
    assert "base file unet/diffusion_pytorch_model.safetensors" in err and "tryon models build-tiny" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


PREFECT_TASK_ERROR = textwrap.dedent("""
    import sys
    from prefect import flow, task
    from flows.cli import run_handled
    from tryon.errors import ModelUnavailableError

    @task
    def load_models():
        raise ModelUnavailableError("depth file x.pt is missing from the cache\\nrun `tryon models pull sdxl`")

    @flow
    def run():
        load_models()

    sys.exit(run_handled(run, verbose="-v" in sys.argv))
""")


@pytest.mark.flow
def test_known_error_inside_a_prefect_task_is_two_lines_unless_verbose(tmp_path):
    script = tmp_path / "task_error.py"
    script.write_text(PREFECT_TASK_ERROR)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}

    def run(*flags):
        return subprocess.run([sys.executable, str(script), *flags], cwd=REPO_ROOT, env=env, capture_output=True,
                              text=True, timeout=300)

    quiet = run()
    assert quiet.returncode == 2, quiet.stderr
    assert "Traceback" not in quiet.stderr and "Finished in state Failed" not in quiet.stderr
    assert quiet.stderr.strip().splitlines() == ["tryon: error: depth file x.pt is missing from the cache",
                                                 "run `tryon models pull sdxl`"]
    verbose = run("-v")
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr and "Finished in state Failed" in verbose.stderr


@pytest.mark.flow
@pytest.mark.slow
def test_tiny_preset_runs_from_the_cli_on_a_fresh_hf_home(tmp_path):
    """What a new user types (README): build the tiny preset, then run the sample with it, offline."""
    hf_home = tmp_path / "hf-home"
    built = cli("models", "build-tiny", hf_home=hf_home)
    assert built.returncode == 0, built.stderr
    assert cli("models", "verify", "tiny", hf_home=hf_home).returncode == 0
    catalogue = tmp_path / "out"
    result = cli("run", str(MANIFEST), "--catalogue", str(catalogue), "--engine", "sdxl", "--models", "tiny",
                 "--config", str(SAMPLE_DIR / "tiny-run.toml"), hf_home=hf_home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "W0000" not in result.stderr
    assert "XNNPACK" not in result.stderr and "Loading weights" not in result.stderr
    latest = cat.load(catalogue).set_index("pair_id")
    assert dict(latest["status"].value_counts()) == {"succeeded": 4, "failed": 1}
    assert latest.loc["p005", "error_type"] == "person_cut_off"
    done = latest[latest["status"] == "succeeded"]
    assert set(done["model_preset"]) == {"tiny"} and done["random_weights"].all()
    revisions = json.loads(done["model_revisions"].iloc[0])
    assert revisions["depth"].startswith("tryon-test/tiny-random-midas@")
    # Issue 11: the same command one pair at a time makes the same images, byte for byte.
    one_by_one = tmp_path / "out-batch-1"
    again = cli("run", str(MANIFEST), "--catalogue", str(one_by_one), "--engine", "sdxl", "--models", "tiny",
                "--config", str(SAMPLE_DIR / "tiny-run.toml"), "--batch-size", "1", hf_home=hf_home)
    assert again.returncode == 0, again.stderr[-3000:]
    single = cat.load(one_by_one).set_index("pair_id")
    assert (single.loc[done.index, "output_sha256"] == done["output_sha256"]).all()
    assert (single.loc[done.index, "config_hash"] == done["config_hash"]).all()


def test_native_noise_is_dropped_and_everything_else_passes(capfd):
    from flows.quiet import NativeNoiseFilter

    noise_filter = NativeNoiseFilter().start()
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    os.write(2, b"W0000 00:00:1796020512.924080    8819 inference_feedback_manager.cc:114] Feedback manager\n")
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    os.write(2, b"\rtry-on:  40%|####      | 2/5")  # a progress bar redraw: no newline, passed on at once
    os.write(2, b"\nE0000 00:00:1.0 1 real_error.cc:1] kept: errors are not noise\n")
    noise_filter.stop()
    err = capfd.readouterr().err
    assert err == "\rtry-on:  40%|####      | 2/5\nE0000 00:00:1.0 1 real_error.cc:1] kept: errors are not noise\n"


def test_missing_device_is_refused_before_the_run(tmp_path, capsys):
    import torch

    from flows.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["run", str(MANIFEST), "--catalogue", str(tmp_path / "out"), "--device", "cuda", "-q"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA device" in err and "--device cpu" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.flow
def test_rerun_failed_checks_its_parent_run_before_prefect_starts(sample_dir, tmp_path, capsys):
    from flows.cli import main

    catalogue = tmp_path / "out"
    assert main(["run", str(sample_dir / "manifest.parquet"), "--catalogue", str(catalogue), "-q"]) == 0
    runs_before = sorted((catalogue / "runs").iterdir())
    (sample_dir / "manifest.parquet").unlink()
    assert main(["rerun-failed", "--catalogue", str(catalogue), "-q"]) == 2
    err = capsys.readouterr().err
    assert "manifest.parquet" in err and "does not exist" in err and "Traceback" not in err
    assert sorted((catalogue / "runs").iterdir()) == runs_before  # no run was started
    assert main(["rerun-failed", "--catalogue", str(tmp_path / "not-a-catalogue")]) == 2
    assert "is not a tryon catalogue" in capsys.readouterr().err
