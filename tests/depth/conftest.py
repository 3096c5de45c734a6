import socket
from pathlib import Path

import pytest
import torch

from tests.tiny_models import tiny_hf_home  # noqa: F401 - fixture


@pytest.fixture(scope="session")
def hf_cache(tiny_hf_home):  # noqa: F811
    """The tiny preset's hub cache (it holds the random-weight MiDaS), with hub access switched off
    (HF_HUB_OFFLINE=1, and any non-loopback socket connect fails) so a download attempt fails the test."""
    from huggingface_hub import constants

    patch = pytest.MonkeyPatch()
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setattr(constants, "HF_HUB_OFFLINE", True)
    original_connect = socket.socket.connect

    def connect(sock, address):
        # Block the outside world (a download attempt fails the test) but not loopback: other
        # tests in the session talk to Prefect's temporary server on 127.0.0.1.
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            _no_network(sock, address)
        return original_connect(sock, address)

    patch.setattr(socket.socket, "connect", connect)
    yield tiny_hf_home / "hub"
    patch.undo()


def _no_network(self, address):
    raise OSError(f"network access attempted in a depth test: {address}")


@pytest.fixture(scope="session")
def tiny_preset():
    from tryon.models.lock import get_preset

    return get_preset("tiny")


@pytest.fixture(scope="session")
def fake_depth_config():
    """Small detect resolution for speed; the checkpoint itself comes from the preset's lock entry."""
    from tryon.config import DepthConfig

    return DepthConfig(model_type="dpt_hybrid", detect_resolution=64)


def write_checkpoint(cache_dir: Path, component, payload) -> Path:
    """Put `payload` (torch.save) where the hub cache keeps `component`'s weight file."""
    from tryon.models.registry import local_file

    path = local_file(component, component.weight_path, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


@pytest.fixture(scope="session")
def sample_people_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "sample" / "people"
