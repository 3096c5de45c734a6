import socket
import warnings
from pathlib import Path

import pytest
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


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory):
    """A local HF cache holding random DPT-Hybrid weights under a fake repo id; hub access is switched
    off (HF_HUB_OFFLINE=1, and any socket connect fails) so a download attempt would fail the test."""
    from huggingface_hub import constants

    patch = pytest.MonkeyPatch()
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setattr(constants, "HF_HUB_OFFLINE", True)
    patch.setattr(socket.socket, "connect", _no_network)
    cache_dir = tmp_path_factory.mktemp("hf_hub")
    checkpoint = write_hf_cache(cache_dir, FAKE_REPO, FAKE_REVISION, FILENAME, random_dpt_hybrid_state())
    yield cache_dir, checkpoint
    patch.undo()


def _no_network(self, address):
    raise OSError(f"network access attempted in a depth test: {address}")


@pytest.fixture(scope="session")
def fake_depth_config(hf_cache):
    """A DepthConfig pointing at the fake repo, sha256 pinned, small detect resolution for speed."""
    from tryon.config import DepthConfig
    from tryon.hashing import sha256_file

    _, checkpoint = hf_cache
    return DepthConfig(
        repo_id=FAKE_REPO, revision=FAKE_REVISION, filename=FILENAME, sha256=sha256_file(checkpoint),
        model_type="dpt_hybrid", detect_resolution=64,
    )


@pytest.fixture(name="write_hf_cache")
def write_hf_cache_fixture():
    return write_hf_cache


@pytest.fixture(scope="session")
def sample_people_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "sample" / "people"
