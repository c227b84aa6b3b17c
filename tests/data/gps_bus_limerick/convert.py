"""Rebuild ``fixes.csv`` and ``stops.csv`` from the original GPX and GeoPackage files.

Run once from the repository root::

    python tests/data/gps_bus_limerick/convert.py ../shared/data/gps_bus_limerick

Stops are ordered by the time the trace passes closest to them (the journey's order).
"""

from __future__ import annotations

import csv
import math
import sqlite3
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).parent
GPX = "304_to_UL_2019-02-18_0745.gpx"
GPKG = "stops_304_to_ul.gpkg"
NS = {"g": "http://www.topografix.com/GPX/1/1"}
# GeoPackage header: 'GP', version, flags, srs_id, then an envelope whose size the flags give.
ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def read_fixes(path: Path) -> list[tuple[str, float, float, str]]:
    """(time, lat, lon, elevation) of every track point, in file order."""
    rows = []
    for point in ET.parse(path).getroot().iterfind(".//g:trkpt", NS):
        time, ele = point.findtext("g:time", "", NS), point.findtext("g:ele", "", NS)
        rows.append((time, float(point.get("lat", "nan")), float(point.get("lon", "nan")), ele))
    return rows


def gpkg_point(blob: bytes) -> tuple[float, float]:
    """(lat, lon) of a GeoPackage point geometry."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    wkb = blob[8 + ENVELOPE_BYTES[(blob[3] >> 1) & 7] :]
    order = "<" if wkb[0] == 1 else ">"
    kind, x, y = struct.unpack(order + "Idd", wkb[1:21])
    if kind != 1:
        raise ValueError("not a point")
    return y, x


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, enough to order stops along the trace."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def main(source: Path) -> None:
    fixes = read_fixes(source / GPX)
    with sqlite3.connect(source / GPKG) as db:
        rows = db.execute("SELECT stop_id, stop_name, geom FROM stops_304_to_ul").fetchall()
    stops = []
    for stop_id, name, blob in rows:
        lat, lon = gpkg_point(blob)
        closest = min(range(len(fixes)), key=lambda i: distance_m(lat, lon, *fixes[i][1:3]))
        stops.append((closest, stop_id, name, lat, lon))
    stops.sort()
    with (HERE / "fixes.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["t_iso", "lat", "lon", "ele"])
        writer.writerows(fixes)
    with (HERE / "stops.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seq", "stop_id", "name", "lat", "lon"])
        for seq, (_, stop_id, name, lat, lon) in enumerate(stops):
            writer.writerow([seq, stop_id, name, f"{lat:.7f}", f"{lon:.7f}"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
