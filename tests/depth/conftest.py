import socket
from pathlib import Path

import pytest

from tests.tiny_depth import FAKE_REPO, FAKE_REVISION, FILENAME, random_dpt_hybrid_state, write_hf_cache


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory):
    """A local HF cache holding random DPT-Hybrid weights under a fake repo id; hub access is switched
    off (HF_HUB_OFFLINE=1, and any socket connect fails) so a download attempt would fail the test."""
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
