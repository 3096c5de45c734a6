"""Random-weight MiDaS (DPT-Hybrid) checkpoints in a local Hugging Face cache layout, for tests."""

import warnings
from pathlib import Path

import torch

FAKE_REPO = "tryon-tests/random-midas"
FAKE_REVISION = "0123456789abcdef0123456789abcdef01234567"
FILENAME = "dpt_hybrid-midas-501f0c75.pt"


def random_dpt_hybrid_state() -> dict:
    """Random weights with the exact keys and shapes of controlnet-aux's DPT-Hybrid (fp16 to keep the file small)."""
    from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        shapes = DPTDepthModel(path=None, backbone="vitb_rn50_384", non_negative=True).state_dict()
    generator = torch.Generator().manual_seed(0)
    return {
        key: (torch.randn(value.shape, generator=generator) * 0.02).half() if value.is_floating_point()
        else torch.zeros(value.shape, dtype=value.dtype)
        for key, value in shapes.items()
    }


def write_hf_cache(cache_dir: Path, repo_id: str, revision: str, filename: str, payload) -> Path:
    """Lay a file out the way huggingface_hub caches it: models--<org>--<name>/snapshots/<sha>/<file> + refs/main."""
    repo_dir = cache_dir / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / revision
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    torch.save(payload, snapshot / filename)
    return snapshot / filename
