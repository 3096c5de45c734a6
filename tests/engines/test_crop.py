import numpy as np
from PIL import Image

from tryon.config import SDXL_BUCKETS
from tryon.engines.crop import (CropPlan, feather_alpha, nearest_bucket, plan_crop, replace_crop, scaled_buckets,
                                stitch)


def box_mask(height, width, top, bottom, left, right):
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def test_scaled_buckets_keep_multiples_of_8_and_native_ones_of_64():
    assert scaled_buckets(SDXL_BUCKETS, 1024) == list(SDXL_BUCKETS)
    tiny = scaled_buckets(SDXL_BUCKETS, 64)
    assert (64, 64) in tiny and (48, 64) in tiny and all(side % 8 == 0 for bucket in tiny for side in bucket)
    assert len(tiny) == len(set(tiny))


def test_nearest_bucket_by_aspect_ratio():
    assert nearest_bucket(300, 400, SDXL_BUCKETS) == (768, 1024)
    assert nearest_bucket(1000, 990, SDXL_BUCKETS) == (1024, 1024)
    assert nearest_bucket(832, 1216, SDXL_BUCKETS) == (832, 1216)
    assert nearest_bucket(100, 1000, SDXL_BUCKETS) == (640, 1536)


def test_crop_holds_mask_and_margin_at_the_buckets_aspect_ratio():
    mask = box_mask(3200, 2400, 1000, 2000, 900, 1300)  # 400 x 1000 box
    plan = plan_crop(mask, SDXL_BUCKETS, margin=0.2)
    left, top, right, bottom = plan.box
    assert left <= 900 - 80 and right >= 1300 + 80 and top <= 1000 - 200 and bottom >= 2000 + 200
    assert 0 <= left < right <= 2400 and 0 <= top < bottom <= 3200
    width, height = plan.size
    assert abs(width / height - plan.bucket[0] / plan.bucket[1]) < 0.01


def test_crop_at_the_image_border_stays_inside_the_image():
    mask = box_mask(400, 300, 0, 120, 250, 300)  # touches the top and right edges
    plan = plan_crop(mask, SDXL_BUCKETS, margin=0.2)
    left, top, right, bottom = plan.box
    assert top == 0 and right == 300 and left <= 250 and bottom >= 120
    empty = plan_crop(np.zeros((40, 30), dtype=bool), SDXL_BUCKETS, margin=0.2)
    assert empty.box == (0, 0, 30, 40)


def test_feather_is_zero_outside_the_mask_and_one_deep_inside():
    mask = box_mask(50, 50, 10, 40, 10, 40)
    alpha = feather_alpha(mask, 4)
    assert (alpha[~mask] == 0).all() and alpha[25, 25] == 1.0
    assert 0 < alpha[10, 25] < alpha[12, 25] < 1.0  # a ramp, not a step
    assert np.array_equal(feather_alpha(mask, 0), mask.astype(float))


def test_stitch_changes_nothing_outside_the_mask_and_raw_replaces_the_crop():
    random = np.random.RandomState(0)
    person = Image.fromarray(random.randint(0, 256, (60, 80, 3), dtype=np.uint8))
    mask = box_mask(60, 80, 20, 40, 30, 50)
    plan = CropPlan((20, 10, 60, 50), (40, 40))
    crop = Image.fromarray(random.randint(0, 256, (40, 40, 3), dtype=np.uint8))
    stitched = np.asarray(stitch(person, crop, plan, mask, feather_px=3))
    original = np.asarray(person)
    assert np.array_equal(stitched[~mask], original[~mask])
    assert np.array_equal(stitched[30, 40], np.asarray(crop)[20, 20])  # deep inside: generated pixels
    raw = np.asarray(replace_crop(person, crop, plan))
    assert np.array_equal(raw[10:50, 20:60], np.asarray(crop))
    outside = np.ones((60, 80), dtype=bool)
    outside[10:50, 20:60] = False
    assert np.array_equal(raw[outside], original[outside])
