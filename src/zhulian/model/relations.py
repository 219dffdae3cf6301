"""Typed relations between records: which predicate may join which types, and the relation item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from zhulian.model.common import FlexDate, RefText, ShortText, Strict



class _AnyType(frozenset):
    """Every record type, including those modules register later (``mentions`` may point at any record)."""

    def __contains__(self, type_name: object) -> bool:
        return isinstance(type_name, str)


ANY = _AnyType()

# predicate -> (subject types, object types, Chinese label, English label)
PREDICATES: dict[str, tuple[frozenset[str], frozenset[str], str, str]] = {
    "lead_unit": (frozenset({"platform", "project"}), frozenset({"organization"}), "牵头单位", "lead unit"),
    "partner_unit": (frozenset({"platform", "project"}), frozenset({"organization", "platform"}),
                     "协同单位", "partner unit"),
    "member_of": (frozenset({"person", "organization", "platform"}), frozenset({"organization", "platform"}),
                  "隶属/成员", "member of"),
    "affiliated_with": (frozenset({"person"}), frozenset({"organization", "platform"}), "任职单位", "affiliated with"),
    "author_of": (frozenset({"person"}), frozenset({"paper", "standard", "achievement"}), "作者", "author of"),
    "inventor_of": (frozenset({"person"}), frozenset({"patent"}), "发明人", "inventor of"),
    "applicant_of": (frozenset({"organization", "person"}), frozenset({"patent"}), "申请人", "applicant of"),
    "owner_of": (frozenset({"organization", "person"}), frozenset({"achievement", "patent", "instrument"}),
                 "权属人", "owner of"),
    "funded_by": (frozenset({"project", "paper", "achievement", "platform", "patent"}),
                  frozenset({"organization", "project", "policy"}), "资助方", "funded by"),
    "hosts": (frozenset({"organization", "platform"}), frozenset({"platform", "instrument"}), "依托/托管", "hosts"),
    "derived_from": (frozenset({"achievement", "patent", "paper", "standard"}),
                     frozenset({"project", "paper", "patent", "achievement"}), "来源于", "derived from"),
    "mentions": (frozenset({"news", "policy", "demand"}), ANY, "提及", "mentions"),
}

# How a relation reads from its object's side: a university's page lists the centres it leads.
INVERSE_LABELS: dict[str, tuple[str, str]] = {
    "lead_unit": ("牵头", "leads"), "partner_unit": ("参与协同", "partner in"), "member_of": ("成员", "member"),
    "affiliated_with": ("人员", "staff"), "author_of": ("作者", "author"), "inventor_of": ("发明人", "inventor"),
    "applicant_of": ("申请人", "applicant"), "owner_of": ("权属人", "owner"), "funded_by": ("资助", "funds"),
    "hosts": ("依托单位", "hosted by"), "derived_from": ("衍生", "gave rise to"), "mentions": ("被提及于", "mentioned in"),
}



@dataclass(frozen=True)
class PredicateSpec:
    """A predicate a module declares with its record types (``RecordType(predicates=…)``): which types it joins
    and how it reads from either end. Registering it adds it to PREDICATES and INVERSE_LABELS."""

    name: str
    subjects: frozenset[str]
    objects: frozenset[str]
    label_zh: str
    label_en: str
    inverse_zh: str
    inverse_en: str


def _known_predicate(name: str) -> str:
    if name not in PREDICATES:
        raise PydanticCustomError("predicate", "not a known predicate; known: {known}",
                                  {"known": ", ".join(PREDICATES), "reason_zh": f"未知关系，可用关系：{'、'.join(PREDICATES)}"})
    return name


# Checked against PREDICATES when a record is validated, so predicates modules declare count too.
Predicate = Annotated[str, AfterValidator(_known_predicate)]


class Relation(Strict):
    """One relation declared by a record. The record is the subject unless ``subject`` is given,
    in which case the record is the object (e.g. a lab declares the university that hosts it)."""

    predicate: Predicate = Field(title="关系 predicate")
    object: RefText | None = Field(None, title="客体 object (id 或 scheme:value)")
    subject: RefText | None = Field(None, title="主体 subject (id 或 scheme:value)")
    role: ShortText | None = Field(None, title="角色 role")
    rank: int | None = Field(None, ge=0, le=100_000, title="排序 rank")
    from_: FlexDate | None = Field(None, alias="from", title="起 from")
    to: FlexDate | None = Field(None, title="止 to")

    @model_validator(mode="after")
    def _exactly_one_end(self) -> Relation:
        if (self.object is None) == (self.subject is None):
            raise PydanticCustomError(
                "relation_end", "give exactly one of object (this record is the subject) or subject",
                {"reason_zh": "object（本记录为主体）与 subject 必须且只能填写一个"})
        return self
