import argparse
import hashlib
import os
import shutil
from dataclasses import replace
from types import SimpleNamespace

import pytest

from tests.tiny_models import tiny_env, tiny_hf_home  # noqa: F401 - fixtures
from tryon.models import commands
from tryon.models.lock import PinnedFile, dump_lock, load_lock
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
    assert len(problems) == 1 and "tiny-lora-b file pytorch_lora_weights.safetensors" in problems[0]
    assert "bytes, the lock pins" in problems[0] and "tryon models build-tiny" in problems[0]
    args = parse("models", "verify", "tiny")
    assert args.handler(args) == 1


def test_verify_reports_every_missing_file_of_a_cache_with_only_configs(tiny_hf_home, tmp_path, monkeypatch):
    """A pattern used to be satisfied by any one match; now each listed file must be there."""
    copy = tmp_path / "hf-home"
    shutil.copytree(tiny_hf_home, copy, symlinks=True)
    monkeypatch.setenv("HF_HOME", str(copy))
    for weights in (copy / "hub").glob("models--*/snapshots/*/**/*.safetensors"):
        weights.unlink()
    problems = commands.verify("tiny")
    expected = [pinned.path for component in load_lock()["tiny"].all_components() for pinned in component.files
                if pinned.path.endswith(".safetensors")]
    assert len(problems) == len(expected) >= 8
    assert all("is missing from the cache" in problem for problem in problems)


def test_verify_reports_missing_and_unpinned_files_of_sdxl(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    preset = load_lock()["sdxl"]
    problems = commands.verify("sdxl")
    assert len(problems) == sum(len(component.files) for component in preset.all_components())
    assert all("is missing from the cache" in problem and "tryon models pull sdxl" in problem for problem in problems)
    # present but with no pinned hash: it is named, with the command that records the hash
    vae = preset.components["vae"]
    config = tmp_path / "hub" / f"models--{vae.repo_id.replace('/', '--')}" / "snapshots" / vae.revision / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{}")
    [unpinned] = [problem for problem in commands.verify("sdxl") if "vae file config.json" in problem]
    assert "unpinned hash" in unpinned and "tryon models lock sdxl" in unpinned


def test_build_tiny_is_deterministic(tiny_hf_home, tmp_path):
    def blobs(home):
        return sorted(path.name for path in (home / "hub").glob("models--*/blobs/*"))

    assert blobs(build_tiny(tmp_path / "again")) == blobs(tiny_hf_home)


class FakeHub:
    """The two hub calls `tryon models lock` makes, answered from local bytes: LFS metadata for
    .safetensors files, a 'download' for small files (whose sha256 the hub does not publish)."""

    def __init__(self, new_sha, contents):
        self.new_sha, self.contents, self.asked = new_sha, contents, []

    def model_info(self, repo_id, revision):
        self.asked.append((repo_id, revision))
        return SimpleNamespace(sha=self.new_sha)

    def get_paths_info(self, repo_id, paths, revision):
        infos = []
        for path in paths:
            data = self.contents(path)
            lfs = SimpleNamespace(sha256=hashlib.sha256(data).hexdigest(), size=len(data)) \
                if path.endswith((".safetensors", ".pt")) else None
            infos.append(SimpleNamespace(path=path, size=len(data), lfs=lfs))
        return infos

    def download(self, tmp_path):
        def hf_hub_download(repo_id, path, revision, cache_dir):
            local = tmp_path / "downloads" / repo_id / revision / path
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(self.contents(path))
            return str(local)
        return hf_hub_download


def test_lock_records_revisions_hashes_and_sizes(tmp_path, monkeypatch):
    text = (load_lock.__globals__["lock_path"]()).read_text()
    text = text.replace('revision = "207b116dae70ace3637169f1ddd2434b91b3a8cd"', 'revision = ""')
    lock_file = tmp_path / "models.lock.toml"
    lock_file.write_text(text)
    monkeypatch.setenv("TRYON_MODELS_LOCK", str(lock_file))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Exception, match="HF_HUB_OFFLINE is set"):
        commands.lock("sdxl")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    hub = FakeHub(hashlib.sha1(b"new").hexdigest(), lambda path: f"bytes of {path}".encode())
    monkeypatch.setattr("huggingface_hub.HfApi", lambda: hub)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub.download(tmp_path))
    before = load_lock(lock_file)["sdxl"]
    resolved = commands.lock("sdxl")
    # every component had unpinned files, so each got hashes; only the unresolved vae moved revision
    assert resolved["vae"] == f"madebyollin/sdxl-vae-fp16-fix@{hub.new_sha}"
    assert hub.asked == [("madebyollin/sdxl-vae-fp16-fix", "main")]
    after = load_lock(lock_file)["sdxl"]
    assert after.components["base"].revision == before.components["base"].revision
    for component in after.all_components():
        for pinned in component.files:
            expected = f"bytes of {pinned.path}".encode()
            assert (pinned.sha256, pinned.size) == (hashlib.sha256(expected).hexdigest(), len(expected))
    assert load_lock(lock_file)["tiny"] == load_lock()["tiny"]
    # --update moves every component to the branch's newest commit
    hub.new_sha = hashlib.sha1(b"newer").hexdigest()
    assert set(commands.lock("sdxl", update=True)) == set(after.components)
    assert {c.revision for c in load_lock(lock_file)["sdxl"].all_components()} == {hub.new_sha}


def test_pull_refuses_unpinned_hashes_then_downloads_exactly_the_pinned_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(Exception, match="without a pinned sha256.*tryon models lock sdxl"):
        commands.pull("sdxl")
    lock_file = tmp_path / "models.lock.toml"
    presets = load_lock()
    pinned_sdxl = replace(presets["sdxl"], components={
        name: replace(component, files=tuple(PinnedFile(f.path, "0" * 64, 1) for f in component.files))
        for name, component in presets["sdxl"].components.items()})
    lock_file.write_text(dump_lock({**presets, "sdxl": pinned_sdxl}))
    monkeypatch.setenv("TRYON_MODELS_LOCK", str(lock_file))
    calls = []
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda repo_id, **kwargs: calls.append((repo_id, kwargs)))
    with pytest.raises(Exception, match="do not verify"):
        commands.pull("sdxl")
    vae = pinned_sdxl.components["vae"]
    assert ("madebyollin/sdxl-vae-fp16-fix", {"revision": vae.revision, "cache_dir": str(tmp_path / "hub"),
                                              "allow_patterns": ["config.json", "diffusion_pytorch_model.safetensors"]}) in calls
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
