"""How far apart two colours look: sRGB -> CIELAB (D65) and the CIEDE2000 colour difference.

Figures give every algorithm in one figure its own colour; "its own" means a CIEDE2000 difference of at least
MIN_COLOUR_DISTANCE from every other colour in the figure (about 2.3 is the smallest difference people notice side
by side; lines and markers in a legend need far more). The formula is Sharma, Wu and Dalal's (2005) statement of
CIEDE2000, with kL = kC = kH = 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import combinations

import matplotlib.colors

MIN_COLOUR_DISTANCE = 15.0

_WHITE_D65 = (0.95047, 1.0, 1.08883)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def lab(colour: str) -> tuple[float, float, float]:
    """CIELAB (L*, a*, b*) of a matplotlib colour under the D65 white point."""
    r, g, b = (_linear(c) for c in matplotlib.colors.to_rgb(colour))
    xyz = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b,
           0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
           0.0193339 * r + 0.1191920 * g + 0.9503041 * b)

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(value / white) for value, white in zip(xyz, _WHITE_D65))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e_2000(first: str, second: str) -> float:
    """The CIEDE2000 difference between two colours (0 = the same colour)."""
    return delta_e_2000_lab(lab(first), lab(second))


def delta_e_2000_lab(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """The CIEDE2000 difference between two CIELAB colours."""
    (l1, a1, b1), (l2, a2, b2) = first, second
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    delta_l, delta_c = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        delta_h = 0.0
    elif abs(h2p - h1p) <= 180:
        delta_h = h2p - h1p
    else:
        delta_h = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    delta_big_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(delta_h / 2))
    l_bar, c_bar_p = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    delta_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(c_bar_p**7 / (c_bar_p**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = -math.sin(math.radians(2 * delta_theta)) * r_c
    return math.sqrt((delta_l / s_l) ** 2 + (delta_c / s_c) ** 2 + (delta_big_h / s_h) ** 2
                     + r_t * (delta_c / s_c) * (delta_big_h / s_h))


def closest_pair(colours: Iterable[str]) -> tuple[float, str, str]:
    """The smallest CIEDE2000 difference among the colours and the two colours that have it (inf for < 2)."""
    pairs = [(delta_e_2000(a, b), a, b) for a, b in combinations(list(colours), 2)]
    return min(pairs) if pairs else (math.inf, "", "")


def far_from(colour: str, others: Iterable[str], distance: float = MIN_COLOUR_DISTANCE) -> bool:
    """Whether the colour differs from every one of the others by at least `distance`."""
    return all(delta_e_2000(colour, other) >= distance for other in others)
