"""Images per second of the SDXL try-on engine at several batch sizes (prints numbers, asserts nothing).

    python benchmarks/engine.py                      # tiny random-weight preset on the CPU
    python benchmarks/engine.py --sdxl               # also the real preset, when CUDA and its weights exist
    python benchmarks/engine.py --full-size          # real SDXL shapes, random weights, on CUDA: 768x1024, 30 steps,
                                                     # batch 1/2/4/8, fp16 + bf16, with/without compile and channels-last
    python benchmarks/engine.py --full-size --scale 0.05 --height 128 --steps 2 --dtypes float32 \
        --batch-sizes 1,2 --compile no --channels-last no   # the same code at reduced width on a CPU
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tryon.config import RunConfig
from tryon.engines.sdxl import SdxlEngine
from tryon.errors import ModelUnavailableError
from tryon.models.tiny import build_tiny
from tryon.pairs import MaskResult, Pair, TryOnRequest


def synthetic_request(index: int, size: tuple[int, int]) -> TryOnRequest:
    width, height = size
    random = np.random.RandomState(index)
    person = Image.fromarray((random.rand(height, width, 3) * 255).astype(np.uint8))
    garment = Image.fromarray((random.rand(height // 2, width // 2, 3) * 255).astype(np.uint8))
    depth = Image.fromarray((random.rand(height, width) * 255).astype(np.uint8))
    garment_mask = np.zeros((height, width), dtype=bool)
    garment_mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = True
    pair = Pair(pair_id=f"bench-{index}", row_index=index, person_image=Path(f"bench-{index}.png"),
                garment_image=Path("garment.png"), category="upper_body", seed=index,
                person_sha256="0" * 64, garment_sha256="1" * 64)
    return TryOnRequest(pair=pair, person=person, garment=garment,
                        mask=MaskResult(garment_mask, np.ones_like(garment_mask), {}, "manual"),
                        depth=depth, seed=index, prompt="a photo of a person wearing a shirt")


def bench(config: RunConfig, batch_sizes: list[int], repeats: int, size: tuple[int, int]) -> None:
    engine = SdxlEngine(config)
    started = time.perf_counter()
    engine.setup()
    print(f"preset {config.models!r} on {engine.device} ({engine.loaded.dtype}): setup {time.perf_counter() - started:.2f} s"
          + ("  [RANDOM WEIGHTS, TEST ONLY]" if engine.is_random_weights else ""))
    engine([synthetic_request(0, size)])  # warm-up
    for batch_size in batch_sizes:
        batch = [synthetic_request(index, size) for index in range(batch_size)]
        started = time.perf_counter()
        for _ in range(repeats):
            engine(batch)
        elapsed = time.perf_counter() - started
        print(f"  batch {batch_size:2d}: {batch_size * repeats / elapsed:7.2f} images/s "
              f"({elapsed / repeats:.3f} s per batch, {config.sdxl.steps} steps, {size[0]}x{size[1]})")


def full_size(args, batch_sizes: list[int]) -> None:
    import torch

    from full_size import run_grid  # benchmarks/ is the script's folder, first on sys.path

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    steps = args.steps or 30
    if device == "cpu" and args.scale == 1:
        raise SystemExit("--full-size at scale 1 needs a CUDA GPU; on a CPU pass e.g. --scale 0.05 --height 128")
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"full-size SDXL try-on pipeline, RANDOM WEIGHTS: {name}, scale {args.scale}, canvas "
          f"{args.height * 3 // 4}x{args.height}, {steps} steps, torch {torch.__version__}")
    yes_no = {"yes": True, "no": False}
    run_grid(device, args.dtypes.split(","), batch_sizes, steps, args.height, args.scale,
             [yes_no[value] for value in args.compile.split(",")],
             [yes_no[value] for value in args.channels_last.split(",")], args.repeats, synthetic_request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", default="1,2,4,8")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="default 4 (tiny), 30 (--full-size)")
    parser.add_argument("--sdxl", action="store_true", help="also benchmark the real preset (CUDA + weights)")
    parser.add_argument("--full-size", action="store_true",
                        help="real architectures from benchmarks/configs with random weights (no download)")
    parser.add_argument("--scale", type=float, default=1.0, help="--full-size width/depth factor (<1 for CPU checks)")
    parser.add_argument("--height", type=int, default=1024, help="--full-size canvas height; width is 3/4 of it")
    parser.add_argument("--dtypes", default="float16,bfloat16", help="--full-size dtypes")
    parser.add_argument("--compile", default="no,yes", help="--full-size: torch.compile the UNet and ControlNet")
    parser.add_argument("--channels-last", default="no,yes", help="--full-size: channels-last memory format")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()
    batch_sizes = [int(value) for value in args.batch_sizes.split(",")]
    if args.full_size:
        full_size(args, batch_sizes)
        return

    real_hf_home = os.environ.get("HF_HOME")
    with tempfile.TemporaryDirectory(prefix="tryon-bench-hf-") as hf_home:
        os.environ["HF_HOME"] = str(build_tiny(hf_home))
        os.environ["HF_HUB_OFFLINE"] = "1"
        tiny = RunConfig(engine="sdxl", models="tiny", device="cpu",
                         sdxl={"steps": args.steps or 4, "resolution": 64})
        bench(tiny, batch_sizes, args.repeats, (64, 64))

    if args.sdxl:
        import torch

        if real_hf_home:
            os.environ["HF_HOME"] = real_hf_home
        else:
            os.environ.pop("HF_HOME", None)
        if not torch.cuda.is_available():
            print("preset 'sdxl': skipped (no CUDA device)")
            return
        real = RunConfig(engine="sdxl", models="sdxl", device="cuda", sdxl={"steps": 30, "resolution": 1024})
        try:
            bench(real, batch_sizes, 1, (768, 1024))
        except ModelUnavailableError as error:
            print(f"preset 'sdxl': skipped ({error})")


if __name__ == "__main__":
    main()
