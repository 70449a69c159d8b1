"""Standard codes of digital city management: divisions, streets, communities, unit grids, parts.

Every code has a parser that returns a typed value or raises :class:`CodeError` naming the bad
position and what was expected, and a ``format`` method that gives back the canonical string, so
``parse(x).format() == canonical(x)`` round-trips (tested with hypothesis).

Layouts (GB/T 30428.1/.2, CJ/T 213/214, GB/T 47678.5-2026):

* district (county-level division, GB/T 2260): 6 digits
* street (GB/T 10114): district + 3 digits = 9
* community: street + 3 digits = 12
* unit grid: community + 3-digit serial = 15; the legacy 14-digit form has a 2-digit serial
  (serial ``00`` there denotes the community polygon itself)
* part identifier: district + 2 major + 2 minor + 6 serial = 16 (CJ/T 214-2007), or
  district + 2 major + 3 minor + 6 serial = 17 (GB/T 47678.5-2026)
"""

from __future__ import annotations

from dataclasses import dataclass

CATALOG_LEGACY = "cjt214-2007"
CATALOG_2026 = "gbt47678-2026"


class CodeError(ValueError):
    """A malformed code. ``field``, ``value`` and ``position`` (1-based) say what and where."""

    def __init__(self, field: str, value: str, position: int | None, expected: str) -> None:
        self.field = field
        self.value = value
        self.position = position
        self.expected = expected
        where = f"第 {position} 位" if position is not None else "长度"
        super().__init__(f"{field} 编码 '{value}' 无效: {where}应为{expected} (invalid {field} code)")


def _digits(field: str, value: str, lengths: tuple[int, ...]) -> str:
    if not isinstance(value, str):
        value = str(value)
    s = value.strip().replace(" ", "")
    for i, ch in enumerate(s, start=1):
        if not ("0" <= ch <= "9"):
            raise CodeError(field, value, i, "数字 0-9")
    if len(s) not in lengths:
        want = " 或 ".join(str(n) for n in lengths)
        raise CodeError(field, value, None, f" {want} 位数字 (实际 {len(s)} 位)")
    return s


def _prefix(field: str, value: str, parse, prefix: str):  # type: ignore[no-untyped-def]
    """Parse a code's leading segment, reporting errors against the whole code."""
    try:
        return parse(prefix)
    except CodeError as exc:
        raise CodeError(field, value, exc.position, exc.expected) from None


def _nonzero(field: str, value: str, s: str, start: int, end: int, what: str) -> None:
    """Segments such as a serial may not be all zeros; ``start``/``end`` are 0-based slice bounds."""
    if set(s[start:end]) == {"0"}:
        raise CodeError(field, value, start + 1, f"非全零的{what}")


@dataclass(frozen=True, slots=True)
class DistrictCode:
    """County-level division code (GB/T 2260): 2 province + 2 city + 2 county."""

    code: str

    @property
    def province(self) -> str:
        return self.code[:2]

    @property
    def city(self) -> str:
        return self.code[:4]

    def format(self) -> str:
        return self.code


def parse_district(value: str) -> DistrictCode:
    s = _digits("district", value, (6,))
    if s[:2] == "00":
        raise CodeError("district", value, 1, "有效省级代码 (11-82)")
    _nonzero("district", value, s, 4, 6, "县级代码")
    return DistrictCode(s)


@dataclass(frozen=True, slots=True)
class StreetCode:
    district: str
    street: str

    def format(self) -> str:
        return self.district + self.street


def parse_street(value: str) -> StreetCode:
    s = _digits("street", value, (9,))
    _prefix("street", value, parse_district, s[:6])
    _nonzero("street", value, s, 6, 9, "街道序号")
    return StreetCode(s[:6], s[6:])


@dataclass(frozen=True, slots=True)
class CommunityCode:
    district: str
    street: str
    community: str

    @property
    def street_code(self) -> str:
        return self.district + self.street

    def format(self) -> str:
        return self.district + self.street + self.community


def parse_community(value: str) -> CommunityCode:
    s = _digits("community", value, (12,))
    st = _prefix("community", value, parse_street, s[:9])
    _nonzero("community", value, s, 9, 12, "社区序号")
    return CommunityCode(st.district, st.street, s[9:])


@dataclass(frozen=True, slots=True)
class GridCode:
    """A unit grid code. ``serial`` is always the 3-digit form; ``legacy`` remembers a 14-digit input."""

    district: str
    street: str
    community: str
    serial: str
    legacy: bool = False

    @property
    def street_code(self) -> str:
        return self.district + self.street

    @property
    def community_code(self) -> str:
        return self.district + self.street + self.community

    def format(self) -> str:
        """The canonical 15-digit form."""
        return self.community_code + self.serial

    def format_legacy(self) -> str:
        """The 14-digit form (2-digit serial); only possible for serials below 100."""
        if int(self.serial) > 99:
            raise CodeError("grid", self.format(), 13, "14 位编码可表示的序号 (<100)")
        return self.community_code + self.serial[1:]


def parse_grid(value: str) -> GridCode:
    s = _digits("grid", value, (14, 15))
    com = _prefix("grid", value, parse_community, s[:12])
    legacy = len(s) == 14
    serial = "0" + s[12:] if legacy else s[12:]
    if legacy and s[12:] == "00":
        raise CodeError("grid", value, 13, "网格序号 01-99 (00 表示社区本身, 不是单元网格)")
    _nonzero("grid", value, s, 12, len(s), "网格序号")
    return GridCode(com.district, com.street, com.community, serial, legacy)


def normalize_grid(value: str) -> str:
    """Any accepted grid code (14 or 15 digits) as the canonical 15-digit string."""
    return parse_grid(value).format()


@dataclass(frozen=True, slots=True)
class PartCode:
    """A part identifier: division + major + minor + serial (16 digits legacy, 17 for 2026)."""

    district: str
    major: str
    minor: str
    serial: str

    @property
    def catalog(self) -> str:
        return CATALOG_LEGACY if len(self.minor) == 2 else CATALOG_2026

    @property
    def class_code(self) -> str:
        return self.major + self.minor

    def format(self) -> str:
        return self.district + self.major + self.minor + self.serial


def parse_part(value: str, catalog: str | None = None) -> PartCode:
    lengths = {None: (16, 17), CATALOG_LEGACY: (16,), CATALOG_2026: (17,)}[catalog]
    s = _digits("part", value, lengths)
    _prefix("part", value, parse_district, s[:6])
    minor_len = 2 if len(s) == 16 else 3
    major = s[6:8]
    if major == "00":
        raise CodeError("part", value, 7, "部件大类 01-99")
    minor = s[8 : 8 + minor_len]
    _nonzero("part", value, s, 8, 8 + minor_len, "部件小类")
    serial = s[8 + minor_len :]
    _nonzero("part", value, s, 8 + minor_len, len(s), "部件序号")
    return PartCode(s[:6], major, minor, serial)


def kind_of(value: str) -> str:
    """Guess which code type a bare digit string is, from its length."""
    n = len(value.strip().replace(" ", ""))
    return {6: "district", 9: "street", 12: "community", 14: "grid", 15: "grid", 16: "part", 17: "part"}.get(
        n, "unknown"
    )


def grid_code(community_code: str, serial: int) -> str:
    """Format a 15-digit grid code from a community code and a serial (1-999)."""
    if not 1 <= serial <= 999:
        raise CodeError("grid", f"{community_code}{serial}", 13, "网格序号 001-999")
    return parse_community(community_code).format() + f"{serial:03d}"


def part_code(district_code: str, class_code: str, serial: int) -> str:
    """Format a part identifier; the class code's length picks the catalogue (4 → 16, 5 → 17 digits)."""
    if len(class_code) not in (4, 5):
        raise CodeError("class", class_code, None, " 4 或 5 位小类编码")
    if not 1 <= serial <= 999_999:
        raise CodeError("part", f"{district_code}{class_code}{serial}", len(class_code) + 7, "序号 000001-999999")
    return parse_part(f"{district_code}{class_code}{serial:06d}").format()
