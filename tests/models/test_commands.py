import argparse
import hashlib
import os
import shutil
from types import SimpleNamespace

import pytest

from tests.tiny_models import tiny_env, tiny_hf_home  # noqa: F401 - fixtures
from tryon.models import commands
from tryon.models.lock import load_lock
from tryon.models.registry import pinned_files
from tryon.models.tiny import build_tiny


def parse(*argv):
    parser = argparse.ArgumentParser(prog="tryon")
    commands.register_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def test_verify_passes_on_fresh_build_and_cli_returns_zero(tiny_env, capsys):
    assert commands.verify("tiny") == []
    args = parse("models", "verify", "tiny")
    assert args.handler(args) == 0
    assert "all pinned files verify" in capsys.readouterr().out


def test_verify_detects_tampered_file(tiny_hf_home, tmp_path, monkeypatch):
    copy = tmp_path / "hf-home"
    shutil.copytree(tiny_hf_home, copy, symlinks=True)
    monkeypatch.setenv("HF_HOME", str(copy))
    lora = load_lock()["tiny"].loras["tiny-lora-b"]
    weights = pinned_files(lora, copy / "hub")["pytorch_lora_weights.safetensors"]
    with open(weights, "ab") as handle:
        handle.write(b"\0")
    problems = commands.verify("tiny")
    assert len(problems) == 1 and "tiny-lora-b" in problems[0] and "does not match" in problems[0]
    args = parse("models", "verify", "tiny")
    assert args.handler(args) == 1


def test_verify_reports_missing_weights_with_pull_advice(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    problems = commands.verify("sdxl")
    from tryon.models.lock import get_preset

    assert len(problems) == len(get_preset("sdxl").all_components()) and all("tryon models pull sdxl" in problem for problem in problems)


def test_build_tiny_is_deterministic(tiny_hf_home, tmp_path):
    def blobs(home):
        return sorted(path.name for path in (home / "hub").glob("models--*/blobs/*"))

    assert blobs(build_tiny(tmp_path / "again")) == blobs(tiny_hf_home)


def test_lock_resolves_unpinned_component_and_rewrites_file(tmp_path, monkeypatch):
    text = (load_lock.__globals__["lock_path"]()).read_text()
    text = text.replace('revision = "207b116dae70ace3637169f1ddd2434b91b3a8cd"', 'revision = ""')
    lock_file = tmp_path / "models.lock.toml"
    lock_file.write_text(text)
    monkeypatch.setenv("TRYON_MODELS_LOCK", str(lock_file))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Exception, match="HF_HUB_OFFLINE is set"):
        commands.lock("sdxl")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    new_sha = hashlib.sha1(b"new").hexdigest()
    asked = []

    class FakeApi:
        def model_info(self, repo_id, revision):
            asked.append((repo_id, revision))
            return SimpleNamespace(sha=new_sha)

    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    assert commands.lock("sdxl") == {"vae": f"madebyollin/sdxl-vae-fp16-fix@{new_sha}"}
    assert asked == [("madebyollin/sdxl-vae-fp16-fix", "main")]
    assert load_lock(lock_file)["sdxl"].components["vae"].revision == new_sha
    assert load_lock(lock_file)["tiny"] == load_lock()["tiny"]


def test_pull_downloads_exactly_the_pinned_patterns(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    calls = []
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda repo_id, **kwargs: calls.append((repo_id, kwargs)))
    with pytest.raises(Exception, match="do not verify"):
        commands.pull("sdxl")
    vae = load_lock()["sdxl"].components["vae"]
    assert ("madebyollin/sdxl-vae-fp16-fix", {"revision": vae.revision, "cache_dir": str(tmp_path / "hub"),
                                              "allow_patterns": list(vae.allow_patterns)}) in calls
    with pytest.raises(Exception, match="build-tiny"):
        commands.pull("tiny")


def test_list_presets_marks_random_weights(tiny_env):
    summaries = {summary["preset"]: summary for summary in commands.list_presets()}
    assert summaries["tiny"]["random_weights"] and summaries["tiny"]["cached"]
    assert not summaries["sdxl"]["random_weights"] and not summaries["sdxl"]["cached"]
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_build_tiny_cli_is_idempotent(tiny_env, capsys):
    args = parse("models", "build-tiny", "--hf-home", str(tiny_env))
    assert args.handler(args) == 0
    assert "RANDOM-WEIGHT TEST preset" in capsys.readouterr().out
    assert commands.verify("tiny") == []
