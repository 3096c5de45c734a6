"""Typed run configuration: validated once at the edge, then passed down explicitly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tryon.errors import ConfigError
from tryon.hashing import stable_hash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Category = Literal["upper_body", "lower_body", "dresses"]
CATEGORIES: tuple[str, ...] = ("upper_body", "lower_body", "dresses")
EngineName = Literal["preview", "sdxl", "external"]  # external: `tryon score` of outputs made elsewhere


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageLimits(_Strict):
    """Bounds on input images; outside them a pair fails with a clear message."""

    min_side: int = Field(64, ge=1, description="Smallest accepted width/height in pixels.")
    max_side: int = Field(8192, ge=64, description="Largest accepted width/height in pixels.")
    max_pixels: int = Field(
        89_478_485, ge=1, description="Decompression-bomb guard (Pillow's default limit)."
    )
    max_aspect_ratio: float = Field(4.0, gt=1.0, description="Longest side / shortest side.")

    @model_validator(mode="after")
    def _consistent(self) -> "ImageLimits":
        if self.min_side > self.max_side:
            raise ValueError(f"limits.min_side ({self.min_side}) is larger than limits.max_side ({self.max_side}); "
                             "no image could pass")
        return self


class MaskingConfig(_Strict):
    """How the garment-agnostic inpainting mask is made."""

    margin_fraction: float = Field(
        0.025, ge=0.0, le=0.2, description="Dilation of the garment region, as a fraction of person height."
    )
    min_person_fraction: float = Field(
        0.04, gt=0.0, lt=1.0, description="A person covering less of the image than this fails as person_too_small."
    )
    pose_min_confidence: float = Field(0.5, gt=0.0, lt=1.0)
    working_long_side: int = Field(
        512, ge=0, le=8192,
        description="Pose and segmentation run on a copy scaled to this long side (0: full size); the mask is "
                    "scaled up once. Mediapipe's models see 256 px anyway; this bounds time and memory on large photos.",
    )
    sam_checkpoint: Path | None = Field(None, description="Segment Anything checkpoint (.pth); enables SAM refinement.")
    sam_model_type: Literal["vit_b", "vit_l", "vit_h"] = "vit_b"
    sam_sha256: str | None = Field(None, description="Expected sha256 of the SAM checkpoint; required with sam_checkpoint.")

    @model_validator(mode="after")
    def _sam_needs_hash(self) -> "MaskingConfig":
        if self.sam_checkpoint is not None and not self.sam_sha256:
            raise ValueError("masking.sam_checkpoint needs masking.sam_sha256 (the checkpoint's sha256) so a swapped file is refused")
        return self


class DepthConfig(_Strict):
    """How MiDaS depth (controlnet-aux) runs. Which checkpoint it loads is pinned in models.lock.toml
    (the preset's `depth` component: repo, commit SHA, file, sha256, size), like every other model."""

    model_type: Literal["dpt_hybrid", "dpt_large", "midas_v21", "midas_v21_small"] = "dpt_hybrid"
    detect_resolution: int = Field(384, ge=64, le=2048)
    source: Literal["agnostic", "person"] = Field(
        "agnostic", description="agnostic: depth of the person with the garment mask filled from its surroundings, "
        "so the old garment's shape and folds do not steer the new one; person: depth of the photo as is.")

    @model_validator(mode="before")
    @classmethod
    def _checkpoint_moved_to_lock(cls, data):
        moved = sorted(set(data) & MOVED_DEPTH_KEYS) if isinstance(data, dict) else []
        if moved:
            raise ValueError(
                f"depth.{', depth.'.join(moved)} no longer belong in the run config: the depth checkpoint is pinned in "
                "models.lock.toml with the other models ([presets.<preset>.components.depth]); remove "
                f"{'them' if len(moved) > 1 else 'it'} from the config"
            )
        return data


# SDXL's training resolution buckets (width, height), about one megapixel each, plus 768x1024 (the
# VITON-HD try-on size). The engine inpaints the garment crop at the bucket nearest its aspect ratio.
SDXL_BUCKETS: tuple[tuple[int, int], ...] = (
    (1024, 1024), (1152, 896), (896, 1152), (1216, 832), (832, 1216), (1344, 768), (768, 1344),
    (1536, 640), (640, 1536), (768, 1024), (1024, 768),
)


# Settings of the depth checkpoint that older configs carried; they now live in the model lock.
MOVED_DEPTH_KEYS = frozenset({"repo_id", "revision", "filename", "sha256"})


class SdxlConfig(_Strict):
    """Diffusion parameters; every one of them is recorded per catalogue row."""

    steps: int = Field(30, ge=1, le=200)
    guidance_scale: float = Field(7.0, ge=0.0, le=30.0)
    strength: float = Field(0.99, gt=0.0, le=1.0)
    controlnet_conditioning_scale: float = Field(0.5, ge=0.0, le=2.0)
    control_guidance_start: float = Field(0.0, ge=0.0, le=1.0)
    control_guidance_end: float = Field(0.8, ge=0.0, le=1.0, description="Depth guides the first 80% of the "
                                        "steps (pose and body shape); the last ones shape fabric detail freely.")
    ip_adapter_scale: float = Field(0.7, ge=0.0, le=2.0)
    ip_adapter: Literal["plus", "plain"] = Field(
        "plus", description="plus: IP-Adapter Plus on ViT-H patch tokens (garment detail: stripes, checks, logos); "
        "plain: one global CLIP embedding (colour and style only).")
    lora: str | None = Field(None, description="Adapter name from the preset's LoRA list; None runs without LoRA.")
    lora_scale: float = Field(1.0, ge=0.0, le=2.0)
    scheduler: Literal["euler", "euler_a", "dpmpp_2m", "ddim", "default"] = "euler"
    resolution: int = Field(1024, ge=64, le=2048, description="Scale of the bucket list: 1024 = SDXL's native "
                            "buckets as listed; 64 shrinks them 16x (test presets). Multiple of 8.")
    buckets: tuple[tuple[int, int], ...] = Field(SDXL_BUCKETS, description="Canvas sizes (width, height) at the 1024 "
                                                 "scale, sides multiples of 64; each crop takes the nearest aspect ratio.")
    crop_margin: float = Field(0.2, ge=0.0, le=2.0, description="Context around the mask's bounding box, as a "
                               "fraction of the box's width/height on each side, before growing to the bucket.")
    feather_px: int = Field(4, ge=0, le=64, description="Width of the alpha ramp inside the mask edge when stitching "
                            "the generated crop back (0: hard edge). Pixels outside the mask never change.")
    negative_prompt: str = "blurry, deformed, low quality, extra limbs, watermark, text"
    prompt_template: str = "a photo of a person wearing {garment}, {category}, high quality, detailed fabric"

    @model_validator(mode="after")
    def _check(self) -> "SdxlConfig":
        if self.control_guidance_end < self.control_guidance_start:
            raise ValueError("sdxl.control_guidance_end must be >= control_guidance_start")
        if self.resolution % 8:
            raise ValueError("sdxl.resolution must be a multiple of 8")
        if not self.buckets or any(side <= 0 or side % 64 for bucket in self.buckets for side in bucket):
            raise ValueError("sdxl.buckets must list (width, height) pairs whose sides are positive multiples of 64")
        return self


class PreviewConfig(_Strict):
    """The weight-free preview engine: pose-guided garment warp + blend."""

    blend: Literal["seamless", "alpha"] = "seamless"
    feather_px: int = Field(3, ge=0, le=64)


class OutputConfig(_Strict):
    """How result images are written. Outputs stay lossless unless `format = "jpeg"` (or lossy webp)."""

    format: Literal["png", "webp", "jpeg"] = Field("png", description="File format of output images.")
    png_compress_level: int = Field(
        1, ge=0, le=9, description="zlib level for PNG (run-length strategy): 1 is ~4x faster than Pillow's default 6, files about as small."
    )
    webp_lossless: bool = Field(True, description="WebP lossless (exact) or lossy at `quality`.")
    quality: int = Field(90, ge=1, le=100, description="JPEG quality, and WebP quality when not lossless.")


class PipelineConfig(_Strict):
    """How one worker schedules its stages; none of this changes an output image."""

    overlap: bool | Literal["auto"] = Field(
        "auto", description="Decode/mask/depth the next window and write the previous one while the engine runs; "
                            "false runs every stage in turn on one thread (for debugging); auto overlaps unless the "
                            "engine itself computes on the CPU (the preview engine, sdxl on a CPU), where the "
                            "stages would only compete with it for the same cores.",
    )
    metrics_long_side: int = Field(
        1024, ge=0, le=8192,
        description="Metrics run on copies scaled to this long side (0: full size); mask areas stay full-size counts.",
    )


class MetricBounds(_Strict):
    """Acceptable range of one metric; outside it a pair is marked needs_review."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "MetricBounds":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is larger than max ({self.max:g}); no pair could pass")
        return self


DEFAULT_QUALITY_GATE: dict[str, MetricBounds] = {
    # Calibrated on the defect set of tests/test_gate_calibration.py (table and reasoning in
    # benchmarks/README.md). Each bound is set from what it must catch, not fitted to that set.
    # The photo outside the mask, before paste-back: at thumbnail size (256 px) a visible blur,
    # noise or blocking drops SSIM under 0.95 while a half-size canvas round trip stays above 0.99.
    "raw_preserve_ssim": MetricBounds(min=0.95),
    # A colour cast over the whole photo: CIEDE2000 of about 2 is where people start to see it.
    "raw_preserve_color_shift": MetricBounds(max=2.0),
    # A visible seam runs along most of the mask edge; a garment that only reaches it in places does not.
    "seam_edge_fraction": MetricBounds(max=0.5),
    # More than half of some half of the garment region still shows the photo: the old garment was kept,
    # or only part of the mask was repainted.
    "garment_unchanged_fraction": MetricBounds(max=0.5),
    # Dominant garment colours missing from the result: CIEDE2000 over 10 reads as another colour.
    "garment_color_delta_e": MetricBounds(max=10.0),
    # Edge-orientation histograms (stripes, checks, plain) of product shot and result disagree.
    "garment_pattern_distance": MetricBounds(max=0.2),
    # The result keeps less than 80 % of the product shot's fine detail at the same scale (blurred).
    "garment_sharpness_ratio": MetricBounds(min=0.8),
    # preserve_* (after paste-back) are not gated: paste-back makes them perfect by construction,
    # and without paste-back they equal the raw_* ones at full resolution, where decoder drift is normal.
}


class RunConfig(_Strict):
    """Everything a run needs. `config_hash()` covers what changes outputs."""

    engine: EngineName = "preview"
    models: str = Field("sdxl", description="Model preset from models.lock.toml (sdxl engine only).")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    shard_size: int = Field(256, ge=1, le=100_000, description="Pairs per Prefect task.")
    batch_size: int = Field(4, ge=1, le=256, description="Pairs per engine call.")
    executor: Literal["local", "ray"] = Field("local", description="Where shards run: this process or Ray actors.")
    workers: int = Field(1, ge=1, le=1024, description="Ray actors (one per GPU); the local executor uses one.")
    ray_address: str | None = Field(None, description="Ray cluster to join; none: $RAY_ADDRESS, else a local one.")
    paste_back: bool = Field(True, description="Copy unmasked pixels back from the person image.")
    external_name: str = Field("external", min_length=1, max_length=64,
                               description="engine name recorded for outputs scored with `tryon score`")
    data_root: Path | None = Field(None, description="Absolute manifest paths must lie inside this folder.")
    limits: ImageLimits = ImageLimits()
    masking: MaskingConfig = MaskingConfig()
    depth: DepthConfig = DepthConfig()
    sdxl: SdxlConfig = SdxlConfig()
    preview: PreviewConfig = PreviewConfig()
    output: OutputConfig = OutputConfig()
    pipeline: PipelineConfig = PipelineConfig()
    quality_gate: dict[str, MetricBounds] = Field(
        default_factory=lambda: dict(DEFAULT_QUALITY_GATE),
        description="metric -> {min, max}; a succeeded pair outside a bound gets needs_review = true",
    )

    @model_validator(mode="after")
    def _known_gate_metrics(self) -> "RunConfig":
        # The metric columns the catalogue writes are the one list of what a gate can bound.
        from tryon.metrics import METRIC_COLUMNS

        unknown = sorted(set(self.quality_gate) - set(METRIC_COLUMNS))
        if unknown:
            raise ValueError(f"quality_gate: unknown metric(s) {', '.join(unknown)}; "
                             f"known metrics: {', '.join(METRIC_COLUMNS)}")
        return self

    def output_settings(self) -> dict:
        """The settings that change a pair's output (not sharding, batching, executor or paths)."""
        settings = self.model_dump(
            mode="json", exclude={"shard_size", "batch_size", "data_root", "limits", "quality_gate",
                                   "executor", "workers", "ray_address", "pipeline"}
        )
        unused = {"sdxl", "depth", "models"} if self.engine == "preview" else {"preview"}
        if self.engine == "external":
            unused = {"sdxl", "depth", "models", "preview", "paste_back"}
        else:
            unused.add("external_name")
        return {key: value for key, value in settings.items() if key not in unused}

    def config_hash(self) -> str:
        return stable_hash(self.output_settings(), length=16)

    def gate_hash(self) -> str:
        """Hash of the quality gate: a change re-judges stored metrics, it makes no new image."""
        return stable_hash({name: bounds.model_dump(mode="json") for name, bounds in self.quality_gate.items()},
                           length=16)

    def engine_label(self) -> str:
        """The `engine` recorded in rows and run records (the outside system's name for `tryon score`)."""
        return self.external_name if self.engine == "external" else self.engine

    def with_overrides(self, **overrides) -> "RunConfig":
        data = self.model_dump()
        data.update({key: value for key, value in overrides.items() if value is not None})
        return validate_config(data)


def validate_config(data: dict) -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'config'}: {item['msg']}" for item in error.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def config_from_record(config_json: str) -> RunConfig:
    """The config a run record stored, readable after the depth checkpoint settings moved to the lock:
    a record written before still carries depth.repo_id/revision/filename/sha256, which are dropped."""
    import json

    data = json.loads(config_json)
    if isinstance(data.get("depth"), dict):
        data["depth"] = {key: value for key, value in data["depth"].items() if key not in MOVED_DEPTH_KEYS}
    return validate_config(data)


def load_config(path: str | Path | None = None, **overrides) -> RunConfig:
    """Read a TOML config file (optional) and apply command-line overrides."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte {error.start}); save it as UTF-8 TOML") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {path} is a folder; pass the path of a TOML file") from None
        except OSError as error:
            raise ConfigError(f"config file {path} cannot be read: {error.strerror or error}") from None
    data.update({key: value for key, value in overrides.items() if value is not None})
    return validate_config(data)
