import numpy as np
from PIL import Image

from tryon.agnostic import garment_agnostic, mask_digest


def striped_person(height=200, width=150):
    """Flat skin-coloured background with a black-and-white striped 'garment' in the middle."""
    array = np.full((height, width, 3), (200, 160, 140), dtype=np.uint8)
    mask = np.zeros((height, width), dtype=bool)
    mask[60:140, 40:110] = True
    stripes = np.where((np.arange(height) // 4) % 2 == 0, 0, 255).astype(np.uint8)
    array[mask] = np.repeat(stripes[:, None], width, axis=1)[mask][:, None]
    return Image.fromarray(array), mask


def test_the_old_garment_is_gone_and_nothing_else_changes():
    person, mask = striped_person()
    agnostic = np.asarray(garment_agnostic(person, mask)).astype(np.int16)
    original = np.asarray(person).astype(np.int16)
    assert np.array_equal(agnostic[~mask], original[~mask])
    assert original[mask].std() > 100  # stripes
    assert agnostic[mask].std() < 30 and np.abs(agnostic[mask] - (200, 160, 140)).max() < 20  # filled from around


def test_large_photos_and_empty_masks():
    person, mask = striped_person()
    big = person.resize((1500, 2000))
    big_mask = np.asarray(Image.fromarray(mask).resize((1500, 2000))) > 0
    assert garment_agnostic(big, big_mask).size == (1500, 2000)
    empty = np.zeros_like(mask)
    assert np.array_equal(np.asarray(garment_agnostic(person, empty)), np.asarray(person))


def test_mask_digest_follows_content_and_shape():
    _, mask = striped_person()
    other = mask.copy()
    other[0, 0] = True
    assert mask_digest(mask) == mask_digest(mask.copy()) != mask_digest(other)
    assert mask_digest(np.zeros((4, 8), bool)) != mask_digest(np.zeros((8, 4), bool))
