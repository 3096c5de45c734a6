import pytest

from tryon.errors import ConfigError
from tryon.models.ip_adapter import select_ip_adapter
from tryon.models.lock import get_preset


@pytest.mark.parametrize("preset_name", ["sdxl", "tiny"])
def test_plus_is_pinned_and_each_choice_keeps_one_adapter_and_its_encoder(preset_name):
    preset = get_preset(preset_name)
    plus = select_ip_adapter(preset, "plus")
    plain = select_ip_adapter(preset, "plain")
    assert plus.components["ip_adapter"].weight_name.startswith("ip-adapter-plus")
    assert plus.components["image_encoder"].subfolder == "models/image_encoder"
    assert plain.components["ip_adapter"].weight_name.startswith("ip-adapter_")
    for chosen in (plus, plain):
        assert not {"ip_adapter_plus", "image_encoder_plus"} & set(chosen.components)
        assert len(chosen.components) == len(preset.components) - 2


def test_sdxl_plus_pins_the_vit_h_pair():
    plus = select_ip_adapter(get_preset("sdxl"), "plus")
    assert plus.components["ip_adapter"].weight_name == "ip-adapter-plus_sdxl_vit-h.safetensors"
    assert plus.components["ip_adapter"].subfolder == "sdxl_models"
    assert plus.components["image_encoder"].repo_id == "h94/IP-Adapter"


def test_a_preset_without_plus_says_what_to_do():
    preset = select_ip_adapter(get_preset("tiny"), "plain")  # a preset with no Plus pair
    with pytest.raises(ConfigError, match="sdxl.ip_adapter = 'plain'"):
        select_ip_adapter(preset, "plus")
