"""One spelling for every GS1 identifier (EPCIS 2.0 §6.4, CBV 2.0 §8.8.2, GS1 Digital Link 1.2): EPC URNs
(``urn:epc:id:…``, ``urn:epc:class:lgtin:…``, ``urn:epc:idpat:…``) and GS1 Digital Link URIs on any host become
the canonical Digital Link ``https://id.gs1.org/<AI>/<key>…`` with GTINs at 14 digits and only the finest level
of identification (a serial wins over a lot; CPV and query strings dropped). Events are indexed, queried and
hashed by that form, so a query by either spelling finds the same objects. Anything else (``urn:gdst:…``, a
platform trace code, a web URI that is not a Digital Link) is an identifier as given."""

from __future__ import annotations

import re

GS1_HOST = "https://id.gs1.org"
# GS1 DL Table 7-1: characters an EPC URN may carry that a Digital Link path segment must percent-encode.
_DL_ESCAPES = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})
_DL = re.compile(r"^https?://[^/?#]+(?:/[^?#]*?)??/(01|00|414|417|8003|8004|8006|8010|8017|8018|253|255|401|402)"
                 r"/([^/?#]+)((?:/[^/?#]+/[^/?#]+)*)/?(?:[?#].*)?$")
_GTIN_KEYS = {"01", "8006"}  # keys whose GTIN a shorter GTIN-8/12/13 is padded to 14 digits in
_KEY_LENGTHS = {"01": 14, "00": 18, "414": 13, "417": 13, "8017": 18, "8018": 18}
_FINEST_QUALIFIERS = {"01": ("21", "235", "10"), "414": ("254",), "8006": ("21",), "8010": ("8011",)}


# GS1 Digital Link 1.2 §5.2: the short names a path may spell application identifiers with.
_AI_NAMES = {"gtin": "01", "sscc": "00", "gln": "414", "glnx": "254", "party": "417", "grai": "8003",
             "giai": "8004", "itip": "8006", "cpid": "8010", "cpsn": "8011", "gsrnp": "8017", "gsrn": "8018",
             "gdti": "253", "gcn": "255", "ginc": "401", "gsin": "402", "ser": "21", "lot": "10", "cpv": "22",
             "tpx": "235"}
_AI_NAME = re.compile(r"/(" + "|".join(sorted(_AI_NAMES, key=len, reverse=True)) + r")/")


def _numeric_keys(uri: str) -> str:
    return _AI_NAME.sub(lambda m: f"/{_AI_NAMES[m.group(1)]}/", uri)


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a key's leading digits (weights 3, 1, 3, … from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def canonical(value: str) -> str:
    """The canonical Digital Link of a GS1 identifier; any other identifier unchanged (trimmed)."""
    value = value.strip()
    return gs1_digital_link(value) or value


def gs1_digital_link(value: str) -> str | None:
    """The canonical Digital Link of an EPC URN or a Digital Link URI, or None when it is neither (or is
    malformed: a wrong partition, a non-numeric key)."""
    if value.startswith("urn:epc:"):
        return _from_urn(value)
    if value.startswith(("http://", "https://")):
        return _from_digital_link(value)
    return None


def _from_digital_link(uri: str) -> str | None:
    found = _DL.match(_numeric_keys(uri))
    if not found:
        return None
    key, primary, rest = found.group(1), found.group(2), found.group(3)
    if key in _KEY_LENGTHS:
        if not primary.isdigit():
            return None
        if key in _GTIN_KEYS:
            primary = primary.zfill(14)
    elif key == "8006":
        primary = primary.zfill(18)
    parts = rest.strip("/").split("/") if rest else []
    qualifiers = dict(zip(parts[::2], parts[1::2], strict=False))
    for qualifier in _FINEST_QUALIFIERS.get(key, ()):
        if qualifier in qualifiers:
            return f"{GS1_HOST}/{key}/{primary}/{qualifier}/{qualifiers[qualifier]}"
    return f"{GS1_HOST}/{key}/{primary}"


def _with_check(digits: str) -> str:
    return digits + check_digit(digits)


def _gtin(company: str, item: str) -> str | None:
    """GTIN-14 from an EPC company prefix and item reference (whose first digit is the indicator)."""
    if len(company) + len(item) != 13 or not (company + item).isdigit():
        return None
    return _with_check(item[0] + company + item[1:])


def _from_urn(urn: str) -> str | None:
    parts = urn.split(":")
    if len(parts) != 5:
        return None
    kind, scheme, body = parts[2], parts[3], parts[4]
    fields = body.split(".")
    company = fields[0]
    if not company.isdigit() or not 6 <= len(company) <= 12:
        return None
    build = _BUILDERS.get((kind, scheme))
    if build is None:
        return None
    try:
        built = build(company, fields[1:])
    except (IndexError, ValueError):
        return None
    return f"{GS1_HOST}/{built}" if built else None


def _escaped(text: str) -> str:
    return text.translate(_DL_ESCAPES)


def _sgtin(company: str, rest: list[str]) -> str | None:
    gtin = _gtin(company, rest[0])
    return gtin and f"01/{gtin}/21/{_escaped('.'.join(rest[1:]))}" if len(rest) >= 2 and rest[1] else None


def _lgtin(company: str, rest: list[str]) -> str | None:
    gtin = _gtin(company, rest[0])
    return gtin and f"01/{gtin}/10/{_escaped('.'.join(rest[1:]))}" if len(rest) >= 2 and rest[1] else None


def _gtin_pattern(company: str, rest: list[str]) -> str | None:
    gtin = _gtin(company, rest[0])
    return gtin and f"01/{gtin}" if rest[1:] == ["*"] else None


def _upui(company: str, rest: list[str]) -> str | None:
    gtin = _gtin(company, rest[0])
    return gtin and f"01/{gtin}/235/{_escaped('.'.join(rest[1:]))}"


def _itip(company: str, rest: list[str]) -> str | None:
    gtin = _gtin(company, rest[0])
    serial = ".".join(rest[3:])
    if not gtin:
        return None
    return f"8006/{gtin}{rest[1]}{rest[2]}" + ("" if serial == "*" else f"/21/{_escaped(serial)}")


def _fixed(ai: str, length: int, *, extension_first: bool = False) -> object:
    """Keys of a fixed length: company prefix + reference (+ check digit), e.g. SSCC (its extension digit
    comes first), GSRN, GSIN."""
    def build(company: str, rest: list[str]) -> str | None:
        reference = rest[0]
        digits = reference[0] + company + reference[1:] if extension_first else company + reference
        if len(digits) != length - 1 or not digits.isdigit():
            return None
        return f"{ai}/{_with_check(digits)}"
    return build


def _sgln(company: str, rest: list[str]) -> str | None:
    if len(company + rest[0]) != 12:
        return None
    gln = _with_check(company + rest[0])
    extension = ".".join(rest[1:])
    return f"414/{gln}" if extension in ("0", "") else f"414/{gln}/254/{_escaped(extension)}"


def _pgln(company: str, rest: list[str]) -> str | None:
    return f"417/{_with_check(company + rest[0])}" if len(company + rest[0]) == 12 else None


def _serialised(ai: str, prefix: str = "") -> object:
    """Keys of 13 digits with a check digit followed by a serial: GRAI (a leading 0), GDTI, SGCN."""
    def build(company: str, rest: list[str]) -> str | None:
        digits = prefix + company + rest[0]
        if len(digits) != 12 + len(prefix) or not digits.isdigit():
            return None
        serial = ".".join(rest[1:])
        if serial == "*":
            return f"{ai}/{_with_check(digits)}"
        return f"{ai}/{_with_check(digits)}{_escaped(serial)}"
    return build


def _variable(ai: str) -> object:
    """Keys made of the company prefix and a reference of variable length: GIAI, GINC."""
    def build(company: str, rest: list[str]) -> str:
        return f"{ai}/{company}{_escaped('.'.join(rest))}"
    return build


def _cpi(company: str, rest: list[str]) -> str | None:
    if rest[-1] == "*":
        return f"8010/{_escaped(company + '.'.join(rest[:-1]))}"
    return f"8010/{_escaped(company + '.'.join(rest[:-1]))}/8011/{rest[-1]}"


_BUILDERS = {
    ("id", "sgtin"): _sgtin, ("class", "lgtin"): _lgtin, ("idpat", "sgtin"): _gtin_pattern,
    ("id", "upui"): _upui, ("id", "itip"): _itip, ("idpat", "itip"): _itip,
    ("id", "sscc"): _fixed("00", 18, extension_first=True), ("id", "gsrn"): _fixed("8018", 18),
    ("id", "gsrnp"): _fixed("8017", 18), ("id", "gsin"): _fixed("402", 17),
    ("id", "sgln"): _sgln, ("id", "pgln"): _pgln,
    ("id", "grai"): _serialised("8003", "0"), ("idpat", "grai"): _serialised("8003", "0"),
    ("id", "gdti"): _serialised("253"), ("idpat", "gdti"): _serialised("253"),
    ("id", "sgcn"): _serialised("255"), ("idpat", "sgcn"): _serialised("255"),
    ("id", "giai"): _variable("8004"), ("id", "ginc"): _variable("401"),
    ("id", "cpi"): _cpi, ("idpat", "cpi"): _cpi,
}


def identifier_problem(value: str) -> tuple[str, str] | None:
    """Why an identifier that claims to be a GS1 key is malformed (English, Chinese), or None."""
    value = value.strip()
    if value.startswith("urn:epc:id:") or value.startswith("urn:epc:class:") or value.startswith("urn:epc:idpat:"):
        if _from_urn(value) is None:
            return ("not a well-formed EPC URN (scheme, company prefix and reference lengths per the GS1 EPC Tag "
                    "Data Standard)", "不是格式正确的 EPC URN（方案、厂商识别代码与参考代码长度应符合 GS1 EPC 标签数据标准）")
        return None
    found = _DL.match(_numeric_keys(value)) if value.startswith(("http://", "https://")) else None
    if found and value.startswith(GS1_HOST):
        key, primary = found.group(1), found.group(2)
        if key in _KEY_LENGTHS and primary.isdigit():
            primary = primary.zfill(14) if key in _GTIN_KEYS else primary
            if len(primary) != _KEY_LENGTHS[key] or check_digit(primary[:-1]) != primary[-1]:
                return (f"the GS1 key {primary} (AI {key}) has a wrong length or check digit",
                        f"GS1 标识 {primary}（AI {key}）的长度或校验位不正确")
    return None
