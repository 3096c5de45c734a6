import numpy as np
from PIL import Image

from tryon.engines.garment import GARMENT_BACKGROUND, pad_to_square


def test_tall_garment_is_padded_to_a_square_never_cropped():
    garment = Image.fromarray(np.full((100, 40, 3), 30, dtype=np.uint8))
    square = pad_to_square(garment)
    array = np.asarray(square)
    assert square.size == (100, 100)
    assert (array[:, 30:70] == 30).all()  # the whole garment, centred
    assert (array[:, :30] == GARMENT_BACKGROUND).all() and (array[:, 70:] == GARMENT_BACKGROUND).all()
    wide = pad_to_square(Image.new("RGB", (90, 30), (1, 2, 3)))
    assert wide.size == (90, 90) and np.asarray(wide)[45, 45].tolist() == [1, 2, 3]
