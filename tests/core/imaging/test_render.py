"""Rendering: rescale, windows, MONOCHROME1, colour models, multi-frame, every transfer syntax."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.imaging.render import (
    apply_window,
    decode_frame,
    downscale,
    read_dataset,
    render,
    thumbnail,
)
from tests.core.imaging.conftest import BUNDLED, bundled, with_voi_lut


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_transfer_syntax_renders(name):
    tile = thumbnail(bundled(name), 64)
    assert tile.dtype == np.uint8 and max(tile.shape[:2]) <= 64
    assert tile.max() > tile.min(), f"{BUNDLED[name]} rendered flat"


def test_ct_rescale_gives_hounsfield_units_and_file_window(tmp_path):
    ds = generate_study("CT", images=1, size=64, seed=3)[0]
    frame = decode_frame(ds)
    stored = ds.pixel_array.astype(np.float32)
    inside = stored != -2000
    assert np.allclose(frame.values[inside], stored[inside] - 1024)
    assert frame.default_window == (float(ds.WindowCenter), float(ds.WindowWidth))
    assert frame.units == "HU"
    # padding outside the field of view does not drag the auto window down to -3024
    assert frame.auto[0] - frame.auto[1] / 2 > -1500


def test_monochrome1_is_inverted(tmp_path):
    ds = generate_study("CR", images=1, series=1, size=64, seed=3)[0]
    frame = decode_frame(ds)
    assert frame.invert
    img = render(frame)
    bright_value = frame.values.max()
    assert img[frame.values == bright_value].mean() < 30  # high exposure shows dark


def test_window_function_and_inversion():
    values = np.array([[-1000, 40, 1000]], dtype=np.float32)
    assert apply_window(values, 40, 80).tolist() == [[0, 129, 255]]
    assert apply_window(values, 40, 80, invert=True).tolist() == [[255, 126, 0]]


def test_signed_pixels_keep_their_sign():
    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    assert ds.PixelRepresentation == 1
    frame = decode_frame(ds)
    assert frame.values.min() < 0 or ds.pixel_array.min() >= 0
    assert np.allclose(frame.values, ds.pixel_array * float(ds.RescaleSlope) +
                       float(ds.RescaleIntercept))


def test_ybr_and_planar_configuration_decode_to_rgb():
    ybr = decode_frame(read_dataset(bundled("SC_ybr_full_422_uncompressed.dcm")))
    rgb = decode_frame(read_dataset(bundled("SC_rgb_small_odd.dcm")))
    assert ybr.color and ybr.values.shape[-1] == 3 and ybr.values.dtype == np.uint8
    assert rgb.color and rgb.values.shape == (3, 3, 3)
    planar = read_dataset(bundled("SC_rgb_rle.dcm"))
    assert decode_frame(planar).values.shape == (100, 100, 3)
    # The RLE file stores planes separately: the top-left pixel is pure red in both encodings.
    reference = decode_frame(read_dataset(bundled("SC_rgb_rle_2frame.dcm")), 0).values
    assert decode_frame(planar).values[0, 0].tolist() == reference[0, 0].tolist() == [255, 0, 0]


def test_multiframe_representative_and_explicit_frames():
    ds = read_dataset(bundled("rtdose.dcm"))
    middle = decode_frame(ds)
    assert middle.frames == 15 and middle.index == 7
    last = decode_frame(ds, 99)
    assert last.index == 14 and last.values.shape == (10, 10)
    assert not np.array_equal(decode_frame(ds, 0).values, last.values)


def test_compressed_synthetic_studies_match_uncompressed(tmp_path):
    plain = generate_study("MR", images=1, series=1, size=64, seed=4)[0]
    reference = decode_frame(plain).values
    for compression in ("rle", "jpegls", "jpeg2000"):
        ds = generate_study("MR", images=1, series=1, size=64, seed=4, compression=compression)[0]
        path = write_study([ds], tmp_path / compression)[0]
        assert np.array_equal(decode_frame(read_dataset(path)).values, reference), compression


def test_downscale_keeps_aspect_and_averages():
    arr = np.arange(512 * 256, dtype=np.float32).reshape(512, 256)
    small = downscale(arr, 128)
    assert small.shape == (128, 64)
    assert small[0, 0] == pytest.approx(arr[:4, :4].mean())


def test_voi_lut_sequence_is_used_when_no_window():
    ds = with_voi_lut(generate_study("MR", images=1, series=1, size=32, seed=2)[0])
    frame = decode_frame(ds)
    assert frame.windows and frame.windows[0][2] == "VOI LUT"
    assert frame.values.max() <= 255


@pytest.mark.parametrize("modality", ["CT", "CR", "MR"])
def test_shrunk_decode_matches_the_full_frame_downscaled(modality):
    # Thumbnails shrink the stored values first; rescale, padding fill and window must give
    # what the full-resolution path gives once downscaled.
    ds = generate_study(modality, images=1, series=1, size=256, seed=5)[0]
    full, small = decode_frame(ds), decode_frame(ds, size=64)
    assert small.values.shape == (64, 64) and small.invert == full.invert
    assert small.windows == full.windows
    c, w = full.default_window
    expected = apply_window(downscale(full.values, 64), c, w, full.invert).astype(int)
    got = apply_window(small.values, c, w, small.invert).astype(int)
    assert np.abs(got - expected).mean() < 1.0 and np.abs(got - expected).max() <= 16
