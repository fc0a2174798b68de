"""Vectorised phantom pixel generators behind the synthetic studies (CT, MR, CR, US)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# (tissue, centre x, centre y, semi-axis a, semi-axis b, rotation degrees, z half-extent).
# Coordinates are in [-1, 1] with y growing downwards (posterior in an axial slice), so the
# spine sits at +y like on a real scanner; later entries paint over earlier ones.
Ellipse = tuple[str, float, float, float, float, float, float]

PHANTOMS: dict[str, list[Ellipse]] = {
    "HEAD": [
        ("bone", 0.0, 0.0, 0.69, 0.92, 0, 1.0),
        ("brain", 0.0, -0.018, 0.66, 0.87, 0, 0.98),
        ("csf", 0.22, 0.0, 0.11, 0.31, -18, 0.5),
        ("csf", -0.22, 0.0, 0.16, 0.41, 18, 0.5),
        ("blood", 0.0, 0.35, 0.21, 0.25, 0, 0.4),
        ("lesion", 0.06, -0.6, 0.046, 0.046, 0, 0.3),
        ("lesion", -0.08, 0.6, 0.046, 0.023, 0, 0.3),
    ],
    "CHEST": [
        ("fat", 0.0, 0.0, 0.88, 0.62, 0, 1.2),
        ("soft", 0.0, 0.0, 0.82, 0.56, 0, 1.2),
        ("lung", -0.4, -0.04, 0.3, 0.44, 8, 1.0),
        ("lung", 0.4, -0.04, 0.3, 0.44, -8, 1.0),
        ("blood", 0.1, 0.05, 0.24, 0.2, 30, 0.6),
        ("bone", 0.0, 0.42, 0.09, 0.09, 0, 1.2),
        ("contrast", -0.05, 0.3, 0.05, 0.05, 0, 1.2),
        ("bone", 0.0, -0.5, 0.06, 0.03, 0, 0.8),
    ],
    "ABDOMEN": [
        ("fat", 0.0, 0.0, 0.9, 0.66, 0, 1.2),
        ("soft", 0.0, 0.0, 0.84, 0.6, 0, 1.2),
        ("liver", -0.35, -0.05, 0.38, 0.34, 10, 0.9),
        ("soft", 0.35, -0.1, 0.18, 0.14, 0, 0.7),
        ("kidney", -0.3, 0.3, 0.1, 0.14, -20, 0.6),
        ("kidney", 0.3, 0.3, 0.1, 0.14, 20, 0.6),
        ("bone", 0.0, 0.4, 0.1, 0.09, 0, 1.2),
        ("contrast", 0.0, 0.25, 0.05, 0.05, 0, 1.2),
    ],
}

# Tissue values per modality: CT in Hounsfield units, MR as T1/T2 signal (unsigned).
CT_HU = {"air": -1000, "fat": -100, "soft": 40, "lung": -850, "bone": 900, "blood": 45,
         "brain": 35, "csf": 8, "liver": 60, "kidney": 30, "contrast": 250, "lesion": 70}
MR_T1 = {"air": 0, "fat": 1100, "soft": 420, "lung": 40, "bone": 90, "blood": 300,
         "brain": 650, "csf": 180, "liver": 520, "kidney": 380, "contrast": 900, "lesion": 450}
MR_T2 = {"air": 0, "fat": 800, "soft": 300, "lung": 30, "bone": 60, "blood": 150,
         "brain": 520, "csf": 1500, "liver": 200, "kidney": 700, "contrast": 250, "lesion": 1100}
# Linear attenuation (arbitrary units) for projection radiographs.
ATTENUATION = {"air": 0.0, "fat": 0.9, "soft": 1.0, "lung": 0.05, "bone": 2.6, "blood": 1.05,
               "brain": 1.0, "csf": 1.0, "liver": 1.05, "kidney": 1.0, "contrast": 1.3,
               "lesion": 1.1}


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    return axis[np.newaxis, :], axis[:, np.newaxis]


def _quadratics(size: int, ellipses: list[Ellipse]) -> list[np.ndarray]:
    """Normalised radius² of every ellipse, computed once per study and thresholded per slice."""
    x, y = _grid(size)
    out = []
    for _tissue, cx, cy, a, b, deg, _z in ellipses:
        th = np.deg2rad(deg)
        dx, dy = x - cx, y - cy
        u = (dx * np.cos(th) + dy * np.sin(th)) / a
        v = (-dx * np.sin(th) + dy * np.cos(th)) / b
        out.append((u * u + v * v).astype(np.float32))
    return out


def _noise_bank(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    # One noise field twice the image size; slices take shifted windows instead of drawing
    # fresh noise, which keeps 200 × 512² well inside the benchmark budget.
    return rng.normal(0.0, sigma, (2 * size, 2 * size)).astype(np.float32)


def _window(bank: np.ndarray, size: int, index: int) -> np.ndarray:
    oy = (index * 37) % size
    ox = (index * 71 + 13) % size
    return bank[oy:oy + size, ox:ox + size]


def tomo_slices(
    rng: np.random.Generator,
    body_part: str,
    size: int,
    count: int,
    values: dict[str, int],
    *,
    background: int,
    noise: float,
) -> Iterator[np.ndarray]:
    """Yield ``count`` float32 axial slices of a phantom from top (z=+1) to bottom (z=-1)."""
    ellipses = PHANTOMS.get(body_part, PHANTOMS["CHEST"])
    quads = _quadratics(size, ellipses)
    bank = _noise_bank(rng, size, noise)
    for i in range(count):
        z = 0.9 - 1.8 * i / max(count - 1, 1)
        img = np.full((size, size), background, dtype=np.float32)
        for (tissue, *_rest, zext), q in zip(ellipses, quads, strict=True):
            scale = 1.0 - (z / zext) ** 2
            if scale > 0:
                img[q <= scale] = values[tissue]
        img += _window(bank, size, i)
        yield img


def ct_slices(rng, body_part: str, size: int, count: int, padding: int) -> Iterator[np.ndarray]:
    """Signed int16 stored values (HU + 1024) with ``padding`` outside the circular field of view."""
    x, y = _grid(size)
    outside = (x * x + y * y) > 1.0
    for img in tomo_slices(rng, body_part, size, count, CT_HU, background=-1000, noise=12.0):
        stored = np.clip(img + 1024.0, -1024, 4095).astype(np.int16)
        stored[outside] = padding
        yield stored


def mr_slices(rng, body_part: str, size: int, count: int, weighting: str) -> Iterator[np.ndarray]:
    """Unsigned 12-bit-in-16 MR magnitude images; |noise| mimics the Rician background."""
    values = MR_T2 if weighting == "T2" else MR_T1
    for img in tomo_slices(rng, body_part, size, count, values, background=0, noise=25.0):
        yield np.clip(np.abs(img), 0, 4095).astype(np.uint16)


def radiograph(rng: np.random.Generator, size: int, lateral: bool) -> np.ndarray:
    """A chest projection, 12-bit, MONOCHROME1: high exposure (lungs, air) is a high value."""
    ellipses = PHANTOMS["CHEST"]
    if lateral:
        ellipses = [(t, cx * 0.35, cy, a * 0.6, b, d, z) for t, cx, cy, a, b, d, z in ellipses]
    quads = _quadratics(size, ellipses)
    # Path length through an ellipsoid is proportional to sqrt(1 - q); every organ sits inside
    # soft tissue (soft inside fat, fat inside air), so it adds its attenuation difference.
    path = np.zeros((size, size), dtype=np.float32)
    for idx, ((tissue, _cx, _cy, a, b, _d, _z), q) in enumerate(zip(ellipses, quads, strict=True)):
        parent = 0.0 if idx == 0 else ATTENUATION["fat" if tissue == "soft" else "soft"]
        chord = np.sqrt(np.clip(1.0 - q, 0.0, None)) * (a + b)
        path += chord * (ATTENUATION[tissue] - parent)
    # CR plates read out roughly the logarithm of exposure, so the value falls linearly with path.
    img = 3900.0 - 1800.0 * path + rng.normal(0.0, 15.0, (size, size)).astype(np.float32)
    return np.clip(img, 0, 4095).astype(np.uint16)


def ultrasound(rng: np.random.Generator, size: int, frame: int) -> np.ndarray:
    """An RGB sector scan with speckle, a cyst, yellow burned-in text bars and a depth scale."""
    x, y = _grid(size)
    ax, ay = x, y + 1.0  # apex at the top centre
    radius = np.sqrt(ax * ax + ay * ay)
    angle = np.arctan2(ax, ay)
    sector = (radius > 0.12) & (radius < 1.85) & (np.abs(angle) < np.deg2rad(38))
    speckle = rng.rayleigh(45.0, (size, size)).astype(np.float32)
    gain = 1.0 - 0.35 * radius / 1.85  # depth attenuation
    gray = speckle * gain
    cyst = ((x - 0.1 * (frame % 3)) / 0.22) ** 2 + ((y - 0.1) / 0.16) ** 2 <= 1.0
    gray[cyst] *= 0.12
    wall = (((x - 0.1 * (frame % 3)) / 0.25) ** 2 + ((y - 0.1) / 0.19) ** 2 <= 1.0) & ~cyst
    gray[wall] += 90.0
    gray[~sector] = 0.0
    gray8 = np.clip(gray, 0, 255).astype(np.uint8)
    rgb = np.repeat(gray8[:, :, np.newaxis], 3, axis=2)
    # Burned-in "text": the patient banner a de-identifier has to blank out.
    bar_h = max(size // 40, 2)
    for row, length in enumerate((0.55, 0.4, 0.3)):
        top = size // 40 + row * 2 * bar_h
        rgb[top:top + bar_h, size // 40:size // 40 + int(size * length)] = (255, 220, 0)
    ticks = np.arange(size // 8, size - size // 16, max(size // 16, 1))
    rgb[ticks, size - size // 20:size - size // 40] = (255, 255, 255)
    return rgb
