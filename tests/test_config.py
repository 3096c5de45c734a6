import json
from pathlib import Path

import pytest

from tryon.config import RunConfig, load_config
from tryon.errors import ConfigError


def test_config_hash_ignores_batching_but_not_output_settings():
    base = RunConfig()
    assert base.config_hash() == RunConfig(shard_size=7, batch_size=9).config_hash()
    assert base.config_hash() != RunConfig(paste_back=False).config_hash()
    sdxl = RunConfig(engine="sdxl")
    assert sdxl.config_hash() != RunConfig(engine="sdxl", sdxl={"steps": 12}).config_hash()


def test_preview_hash_does_not_depend_on_unused_sdxl_settings():
    assert RunConfig().config_hash() == RunConfig(sdxl={"steps": 12}).config_hash()


def test_load_config_reads_toml_and_applies_overrides(tmp_path: Path):
    config_file = tmp_path / "run.toml"
    config_file.write_text('engine = "sdxl"\nbatch_size = 2\n[sdxl]\nsteps = 20\nlora = "tryon"\n')
    config = load_config(config_file, batch_size=8)
    assert config.engine == "sdxl" and config.batch_size == 8
    assert config.sdxl.steps == 20 and config.sdxl.lora == "tryon"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('engine = "magic"\n', "engine"),
        ("[sdxl]\nsteps = 0\n", "sdxl.steps"),
        ("[sdxl]\nresolution = 1001\n", "multiple of 8"),
        ("unknown_key = 1\n", "unknown_key"),
        ('[masking]\nsam_checkpoint = "sam.pth"\n', "sam_sha256"),
    ],
)
def test_invalid_config_names_the_field(tmp_path: Path, text: str, fragment: str):
    config_file = tmp_path / "bad.toml"
    config_file.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(config_file)


def test_missing_config_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_depth_checkpoint_settings_moved_to_the_lock(tmp_path: Path):
    config_file = tmp_path / "old.toml"
    config_file.write_text('[depth]\nrepo_id = "lllyasviel/Annotators"\nrevision = "' + "a" * 40 + '"\n'
                           "detect_resolution = 256\n")
    with pytest.raises(ConfigError, match=r"depth\.repo_id, depth\.revision no longer belong in the run config.*"
                                          r"models\.lock\.toml"):
        load_config(config_file)


def test_old_run_records_still_load_without_the_moved_depth_settings():
    from tryon.config import config_from_record

    old = RunConfig(engine="sdxl").model_dump(mode="json")
    old["depth"].update(repo_id="lllyasviel/Annotators", revision="a" * 40, filename="x.pt", sha256=None)
    config = config_from_record(json.dumps(old))
    assert config == RunConfig(engine="sdxl")
