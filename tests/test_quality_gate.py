from tryon.config import MetricBounds, RunConfig
from tryon.quality_gate import review_reasons


def test_bounds_and_flags_give_reasons():
    gate = {"preserve_ssim": MetricBounds(min=0.9), "garment_color_delta_e": MetricBounds(max=20)}
    assert review_reasons({"preserve_ssim": 0.95, "garment_color_delta_e": 3.0}, gate) == []
    reasons = review_reasons({"preserve_ssim": 0.5, "garment_color_delta_e": 30.0, "is_black": True}, gate)
    assert reasons == ["is_black", "preserve_ssim=0.5 < 0.9", "garment_color_delta_e=30 > 20"]


def test_missing_or_nan_metrics_do_not_flag():
    gate = {"gt_ssim": MetricBounds(min=0.5)}
    assert review_reasons({"gt_ssim": None}, gate) == [] and review_reasons({"gt_ssim": float("nan")}, gate) == []


def test_gate_is_config_and_not_part_of_the_output_hash():
    strict = RunConfig(quality_gate={"preserve_ssim": {"min": 0.99}})
    assert strict.quality_gate["preserve_ssim"].min == 0.99
    assert strict.config_hash() == RunConfig().config_hash()
