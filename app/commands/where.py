"""``python main.py where LON LAT [--json]``: reverse geocode a point to 区/街道/社区/网格 and the nearest address.

Exit 1 if the point is outside every unit grid of the store (or the store cannot be opened).
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def _coord(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"坐标必须是数字 coordinate '{text}' is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"坐标必须是有限数字 coordinate '{text}' is not finite")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lon", type=_coord, help="经度 longitude (CGCS2000 / WGS84)")
    p.add_argument("lat", type=_coord, help="纬度 latitude")
    p.add_argument("--json", action="store_true", help="输出 JSON")


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.geocoding import OutsideCity, get_geocoder

    store = open_store(args.store, readonly=True)
    if store is None:
        return 1
    try:
        place = get_geocoder(store).reverse(args.lon, args.lat)
    except OutsideCity as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        print(json.dumps(place.as_dict(), ensure_ascii=False))
        return 0
    print(f"区 district:   {place.district_name} ({place.district_code})")
    print(f"街道 street:   {place.street_name} ({place.street_code})")
    print(f"社区 community: {place.community_name} ({place.community_code})")
    print(f"网格 grid:     {place.grid_code}")
    print(f"位置 address:  {place.description or '附近无地址 no address within 500 m'}")
    return 0
