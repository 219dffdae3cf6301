"""The region: nine Pearl River Delta cities plus Hong Kong and Macao.

Roles follow the "1+1+7" demonstration zone (Shenzhen and Guangzhou lead, seven cities follow) and the
three innovation circles named in the 2014–2020 integration action plan. Centroids are GCJ-02 longitude,
latitude as published in the GB/T 2260-based code list.
"""

from __future__ import annotations

from dataclasses import dataclass

CIRCLES = {
    "gfz": {"zh": "广佛肇", "en": "Guangzhou–Foshan–Zhaoqing circle"},
    "sdh": {"zh": "深莞惠", "en": "Shenzhen–Dongguan–Huizhou circle"},
    "zzj": {"zh": "珠中江", "en": "Zhuhai–Zhongshan–Jiangmen circle"},
}

ROLES = {
    "lead": {"zh": "龙头（1+1）", "en": "lead city (the two 1s of 1+1+7)"},
    "member": {"zh": "示范区城市（7）", "en": "zone city (the 7 of 1+1+7)"},
    "sar": {"zh": "特别行政区", "en": "special administrative region"},
}


@dataclass(frozen=True)
class City:
    adcode: str
    zh: str
    en: str
    zh_hant: str
    lng: float
    lat: float
    role: str
    circle: str | None

    def as_dict(self) -> dict:
        return {
            "adcode": self.adcode,
            "name": {"zh": self.zh, "en": self.en, "zh_hant": self.zh_hant},
            "centroid": {"lng": self.lng, "lat": self.lat},
            "role": self.role,
            "role_display": ROLES[self.role],
            "circle": self.circle,
            "circle_display": CIRCLES.get(self.circle) if self.circle else None,
        }


CITIES: tuple[City, ...] = (
    City("440100", "广州市", "Guangzhou", "廣州市", 113.264385, 23.12911, "lead", "gfz"),
    City("440300", "深圳市", "Shenzhen", "深圳市", 114.057939, 22.543527, "lead", "sdh"),
    City("440400", "珠海市", "Zhuhai", "珠海市", 113.576677, 22.270978, "member", "zzj"),
    City("440600", "佛山市", "Foshan", "佛山市", 113.121435, 23.021478, "member", "gfz"),
    City("441300", "惠州市", "Huizhou", "惠州市", 114.415612, 23.112381, "member", "sdh"),
    City("441900", "东莞市", "Dongguan", "東莞市", 113.751799, 23.020673, "member", "sdh"),
    City("442000", "中山市", "Zhongshan", "中山市", 113.39277, 22.517585, "member", "zzj"),
    City("440700", "江门市", "Jiangmen", "江門市", 113.081542, 22.57899, "member", "zzj"),
    City("441200", "肇庆市", "Zhaoqing", "肇慶市", 112.465091, 23.047191, "member", "gfz"),
    City("810000", "香港特别行政区", "Hong Kong SAR", "香港特別行政區", 114.171203, 22.277468, "sar", None),
    City("820000", "澳门特别行政区", "Macao SAR", "澳門特別行政區", 113.543028, 22.186835, "sar", None),
)

CITY_BY_ADCODE = {city.adcode: city for city in CITIES}


def city_of(adcode: str | None) -> City | None:
    """The region city an adcode lies in (a county code maps to its city)."""
    if not adcode:
        return None
    for candidate in (adcode, adcode[:4] + "00", adcode[:2] + "0000"):
        if candidate in CITY_BY_ADCODE:
            return CITY_BY_ADCODE[candidate]
    return None
