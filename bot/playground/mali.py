"""A small offline map of Mali for the playground: the country's outline and the towns of
content/places.csv, in longitude/latitude; the page draws them as SVG (no tiles, no internet).
"""

from __future__ import annotations

from typing import Any

from bot.content import load_directory

# Natural Earth 1:110m admin-0 outline (public domain), rounded to 0.01 degree: a sketch to
# place towns and pins on, not a border to rely on.
OUTLINE: tuple[tuple[float, float], ...] = (
    (-12.17, 14.62),
    (-11.83, 14.80),
    (-11.67, 15.39),
    (-11.35, 15.41),
    (-10.65, 15.13),
    (-10.09, 15.33),
    (-9.70, 15.26),
    (-9.55, 15.49),
    (-5.54, 15.50),
    (-5.32, 16.20),
    (-5.49, 16.33),
    (-5.97, 20.64),
    (-6.45, 24.96),
    (-4.92, 24.97),
    (-1.55, 22.79),
    (1.82, 20.61),
    (2.06, 20.14),
    (2.68, 19.86),
    (3.15, 19.69),
    (3.16, 19.06),
    (4.27, 19.16),
    (4.27, 16.85),
    (3.72, 16.18),
    (3.64, 15.57),
    (2.75, 15.41),
    (1.39, 15.32),
    (1.02, 14.97),
    (0.37, 14.93),
    (-0.27, 14.92),
    (-0.52, 15.12),
    (-1.07, 14.97),
    (-2.00, 14.56),
    (-2.19, 14.25),
    (-2.97, 13.80),
    (-3.10, 13.54),
    (-3.52, 13.34),
    (-4.01, 13.47),
    (-4.28, 13.23),
    (-4.43, 12.54),
    (-5.22, 11.71),
    (-5.20, 11.38),
    (-5.47, 10.95),
    (-5.40, 10.37),
    (-5.82, 10.22),
    (-6.05, 10.10),
    (-6.21, 10.52),
    (-6.49, 10.41),
    (-6.67, 10.43),
    (-6.85, 10.14),
    (-7.62, 10.15),
    (-7.90, 10.30),
    (-8.03, 10.21),
    (-8.34, 10.49),
    (-8.28, 10.79),
    (-8.41, 10.91),
    (-8.62, 10.81),
    (-8.58, 11.14),
    (-8.38, 11.39),
    (-8.79, 11.81),
    (-8.91, 12.09),
    (-9.13, 12.31),
    (-9.33, 12.33),
    (-9.57, 12.19),
    (-9.89, 12.06),
    (-10.17, 11.84),
    (-10.59, 11.92),
    (-10.87, 12.18),
    (-11.04, 12.21),
    (-11.30, 12.08),
    (-11.46, 12.08),
    (-11.51, 12.44),
    (-11.47, 12.75),
    (-11.55, 13.14),
    (-11.93, 13.42),
    (-12.12, 13.99),
)


def map_data() -> dict[str, Any]:
    """The outline and the towns (largest first, so the page can label the big ones)."""
    places = sorted(load_directory().places, key=lambda p: -(p.population or 0))
    return {
        "outline": [list(point) for point in OUTLINE],
        "towns": [
            {"name": p.name, "region": p.region, "latitude": p.latitude, "longitude": p.longitude}
            for p in places
        ],
    }
