"""The pinned MiDaS checkpoint, where it is already in the local HF cache (skipped elsewhere).

It checks what random weights cannot: that the real file loads with weights_only=True into
controlnet-aux's architecture, and gives a plausible depth map (the face nearer than the wall).
"""

import numpy as np
import pytest
from PIL import Image

from tryon.config import DepthConfig
from tryon.depth import DepthStage
from tryon.errors import ModelUnavailableError
from tryon.models.lock import get_preset

pytestmark = pytest.mark.slow


def test_pinned_checkpoint_loads_and_sees_the_face_in_front(sample_people_dir):
    stage = DepthStage(DepthConfig(), get_preset("sdxl"), device="auto")
    try:
        stage.setup()
    except ModelUnavailableError as error:
        pytest.skip(f"pinned depth checkpoint not cached here: {error}")
    person = Image.open(sample_people_dir / "astronaut.png").convert("RGB")
    [depth] = stage([person])
    pixels = np.asarray(depth)[..., 0].astype(float)
    assert depth.size == person.size
    assert pixels[80:160, 190:250].mean() > pixels[20:80, 20:80].mean()  # face vs top-left background
