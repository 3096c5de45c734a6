import os
import shutil
from dataclasses import replace

import pytest

from tests.tiny_models import tiny_env, tiny_hf_home  # noqa: F401 - fixtures
from tryon.errors import ModelUnavailableError
from tryon.hashing import sha256_file
from tryon.models.fingerprint import HASH_CACHE_NAME, FileHashCache
from tryon.models.lock import get_preset
from tryon.models.loader import load_pipeline, model_files_fingerprint
from tryon.models.registry import pinned_files


def test_fingerprint_stable_across_loads(tiny_env):
    preset = get_preset("tiny")
    first, versions = model_files_fingerprint(preset)
    second, _ = model_files_fingerprint(preset)
    assert first == second == load_pipeline(preset, "cpu").fingerprint
    assert set(versions) == {"diffusers_version", "transformers_version", "torch_version"}
    assert FileHashCache(tiny_env / "hub" / HASH_CACHE_NAME).entries  # hashes remembered on disk


def test_warm_start_hashes_nothing(tiny_env, monkeypatch):
    preset = get_preset("tiny")
    model_files_fingerprint(preset)  # cold or warm: every file's hash is on disk afterwards
    hashed = []
    monkeypatch.setattr("tryon.models.fingerprint.sha256_file", lambda path: hashed.append(path))
    model_files_fingerprint(preset)
    assert hashed == []  # known (path, size, mtime): no file re-read


def test_fingerprint_changes_when_a_weight_file_changes(tiny_hf_home, tmp_path, monkeypatch):
    copy = tmp_path / "hf-home"
    shutil.copytree(tiny_hf_home, copy, symlinks=True)
    monkeypatch.setenv("HF_HOME", str(copy))
    preset = get_preset("tiny")
    before, _ = model_files_fingerprint(preset)
    weights = pinned_files(preset.components["vae"], copy / "hub")["diffusion_pytorch_model.safetensors"]
    blob = os.path.realpath(weights)
    with open(blob, "r+b") as handle:  # flip one byte near the end (inside a tensor), keep the size
        handle.seek(-3, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-3, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelUnavailableError, match="vae file diffusion_pytorch_model.safetensors .* has sha256 .* "
                                                    "altered or corrupted"):
        model_files_fingerprint(preset)  # altered in place, same size: refused
    # The same change, made the way new weights arrive: the lock pins the new content.
    vae = preset.components["vae"]
    files = tuple(replace(pinned, sha256=sha256_file(blob)) if pinned.path == "diffusion_pytorch_model.safetensors"
                  else pinned for pinned in vae.files)
    after, _ = model_files_fingerprint(replace(preset, components={**preset.components, "vae": replace(vae, files=files)}))
    assert after != before


def test_hash_cache_rehashes_only_changed_files(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 10)
    cache = FileHashCache(tmp_path / "cache.json")
    first = cache.sha256(path)
    cache.save()
    reloaded = FileHashCache(tmp_path / "cache.json")
    assert reloaded.sha256(path) == first and reloaded.hashed == 0
    path.write_bytes(b"b" * 11)
    assert reloaded.sha256(path) != first and reloaded.hashed == 1
