from pathlib import Path

import pytest
from PIL import Image

from tryon.config import ImageLimits, MaskingConfig
from tryon.masking import MaskingStage
from tryon.pairs import Pair

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def make_pair(person_image: Path, category: str = "upper_body", mask_image: Path | None = None, pair_id: str = "t1") -> Pair:
    return Pair(
        pair_id=pair_id, row_index=3, person_image=person_image, garment_image=SAMPLE / "garments" / "red_tshirt.png",
        category=category, seed=0, person_sha256="0" * 64, garment_sha256="0" * 64, mask_image=mask_image,
    )


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session", name="make_pair")
def make_pair_fixture():
    return make_pair


@pytest.fixture(scope="session")
def masking_stage():
    stage = MaskingStage(MaskingConfig(), ImageLimits())
    stage.setup()
    yield stage
    stage.close()


@pytest.fixture(scope="session")
def people():
    return {
        "astronaut": (SAMPLE / "people" / "astronaut.png", Image.open(SAMPLE / "people" / "astronaut.png").convert("RGB")),
        "grace_hopper": (SAMPLE / "people" / "grace_hopper.jpg", Image.open(SAMPLE / "people" / "grace_hopper.jpg").convert("RGB")),
    }
