import pytest

from tryon.errors import ConfigError, ModelUnavailableError
from tryon.models.lock import (COMMIT_SHA, REQUIRED_ROLES, LockError, PinnedFile, dump_lock, get_preset, load_lock,
                               lock_path, parse_lock)

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "ab" * 32


def lock_text(revision: str = SHA, extra: str = "", files: str = f'"config.json" = {{ sha256 = "{DIGEST}", size = 12 }}\n') -> str:
    body = "[presets.demo]\ndescription = 'x'\n"
    for role in REQUIRED_ROLES:
        body += (f'[presets.demo.components.{role}]\nrepo_id = "org/{role}"\nrevision = "{revision}"\n{extra}'
                 f"[presets.demo.components.{role}.files]\n{files}")
    return body


@pytest.mark.parametrize("revision", ["main", "v1.0", "0123456", SHA.upper(), SHA + "0"])
def test_lock_refuses_moving_or_short_revisions(revision):
    with pytest.raises(LockError, match="full 40-hex commit SHA.*tryon models lock demo"):
        parse_lock(lock_text(revision))


def test_lock_refuses_missing_role_and_bad_hash():
    with pytest.raises(LockError, match="lacks components"):
        parse_lock(lock_text().replace("presets.demo.components.vae", "presets.demo.components.other"))
    with pytest.raises(LockError, match="pickled weights"):
        parse_lock(lock_text(extra='weight_name = "ip-adapter_sdxl.bin"\n'))
    with pytest.raises(LockError, match="sha256 of 'config.json' is not 64 lowercase hex"):
        parse_lock(lock_text(files='"config.json" = { sha256 = "abc", size = 1 }\n'))
    with pytest.raises(LockError, match="size of 'config.json' is not a byte count"):
        parse_lock(lock_text(files=f'"config.json" = {{ sha256 = "{DIGEST}", size = -1 }}\n'))
    with pytest.raises(LockError, match="no \\[files\\] listed"):
        parse_lock(lock_text(files=""))
    with pytest.raises(LockError, match="weight file 'w.safetensors' is not listed"):
        parse_lock(lock_text(extra='weight_name = "w.safetensors"\n'))


def test_old_pattern_locks_are_refused_with_the_new_format():
    with pytest.raises(LockError, match="replaced by a \\[files\\] table"):
        parse_lock(lock_text(extra='allow_patterns = ["*.json"]\n'))


def test_unpinned_values_are_explicit_and_round_trip():
    text = lock_text(files='"config.json" = { sha256 = "unpinned", size = "unpinned" }\n"w.json" = { sha256 = "'
                     + DIGEST + '", size = 7 }\n')
    preset = parse_lock(text)["demo"]
    assert preset.components["vae"].files == (PinnedFile("config.json"), PinnedFile("w.json", DIGEST, 7))
    assert not preset.components["vae"].files[0].hash_pinned
    assert parse_lock(dump_lock({"demo": preset}))["demo"] == preset


def test_only_tensor_checkpoints_may_be_pt_files():
    text = lock_text().replace('[presets.demo.components.depth]\nrepo_id = "org/depth"\n',
                               '[presets.demo.components.depth]\nrepo_id = "org/depth"\nweight_name = "midas.pt"\n')
    text = text.replace('[presets.demo.components.depth.files]\n',
                        f'[presets.demo.components.depth.files]\n"midas.pt" = {{ sha256 = "{DIGEST}", size = 3 }}\n')
    assert parse_lock(text)["demo"].components["depth"].weight_path == "midas.pt"


def test_unresolved_component_refuses_to_load_with_lock_advice():
    preset = parse_lock(lock_text(""))["demo"]
    assert [c.name for c in preset.unresolved()] == list(REQUIRED_ROLES)
    with pytest.raises(ModelUnavailableError, match="tryon models lock demo` on a machine with hub access"):
        preset.require_resolved()


def test_dump_round_trips():
    presets = load_lock()
    assert parse_lock(dump_lock(presets)) == presets


def test_repo_lock_pins_real_and_test_presets_honestly():
    presets = load_lock()
    assert lock_path().name == "models.lock.toml"
    sdxl, tiny = presets["sdxl"], presets["tiny"]
    assert not sdxl.random_weights and tiny.random_weights
    assert all(COMMIT_SHA.match(c.revision) or c.revision == "" for c in sdxl.all_components())
    assert not any(c.repo_id.startswith("tryon-test/") for c in sdxl.all_components())
    assert all(c.repo_id.startswith("tryon-test/tiny-random-") for c in tiny.all_components())
    assert set(tiny.loras) == {"tiny-lora-a", "tiny-lora-b"}
    assert sdxl.components["ip_adapter"].weight_name == "ip-adapter_sdxl.safetensors"
    # every file of every component is listed; a hash is either pinned or explicitly "unpinned"
    assert all(component.files for component in sdxl.all_components() + tiny.all_components())
    depth = sdxl.components["depth"]
    assert depth.repo_id == "lllyasviel/Annotators" and COMMIT_SHA.match(depth.revision)
    assert depth.file(depth.weight_path).sha256.startswith("501f0c75")  # torch.hub names files by their hash
    # the tiny preset is built here, so every one of its files is pinned with hash and size
    assert all(pinned.hash_pinned and pinned.size for c in tiny.all_components() for pinned in c.files)


def test_lock_path_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "other.lock.toml"
    path.write_text(lock_text())
    monkeypatch.setenv("TRYON_MODELS_LOCK", str(path))
    assert lock_path() == path
    assert get_preset("demo").components["vae"].repo_id == "org/vae"
    with pytest.raises(ConfigError, match="unknown model preset 'sdxl'"):
        get_preset("sdxl")
