import pytest

from tryon.errors import ConfigError, ModelUnavailableError
from tryon.models.lock import COMMIT_SHA, LockError, dump_lock, get_preset, load_lock, lock_path, parse_lock

SHA = "0123456789abcdef0123456789abcdef01234567"


def lock_text(revision: str = SHA, extra: str = "") -> str:
    roles = ("base", "controlnet", "vae", "ip_adapter", "image_encoder")
    body = "[presets.demo]\ndescription = 'x'\n"
    for role in roles:
        body += f'[presets.demo.components.{role}]\nrepo_id = "org/{role}"\nrevision = "{revision}"\n{extra}'
    return body


@pytest.mark.parametrize("revision", ["main", "v1.0", "0123456", SHA.upper(), SHA + "0"])
def test_lock_refuses_moving_or_short_revisions(revision):
    with pytest.raises(LockError, match="full 40-hex commit SHA.*tryon models lock demo"):
        parse_lock(lock_text(revision))


def test_lock_refuses_missing_role_and_bad_hash():
    with pytest.raises(LockError, match="lacks components"):
        parse_lock(lock_text().replace("[presets.demo.components.vae]", "[presets.demo.components.other]"))
    with pytest.raises(LockError, match="pickled weights"):
        parse_lock(lock_text(extra='weight_name = "ip-adapter_sdxl.bin"\n'))
    with pytest.raises(LockError, match="sha256"):
        parse_lock(lock_text(extra='sha256 = { "config.json" = "abc" }\n'))


def test_unresolved_component_refuses_to_load_with_lock_advice():
    preset = parse_lock(lock_text(""))["demo"]
    assert [c.name for c in preset.unresolved()] == ["base", "controlnet", "vae", "ip_adapter", "image_encoder"]
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


def test_lock_path_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "other.lock.toml"
    path.write_text(lock_text())
    monkeypatch.setenv("TRYON_MODELS_LOCK", str(path))
    assert lock_path() == path
    assert get_preset("demo").components["vae"].repo_id == "org/vae"
    with pytest.raises(ConfigError, match="unknown model preset 'sdxl'"):
        get_preset("sdxl")
