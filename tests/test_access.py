"""Keys, roles, record access levels and the audit log, enforced in the record service."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zhulian.access import ANONYMOUS, CLI_ADMIN, Principal, create_key, list_keys, revoke_key
from zhulian.access.keys import authenticate
from zhulian.errors import ZhulianError
from zhulian.records import RecordService
from zhulian.store.tables import api_keys

GZ, SZ = "440100", "440300"


def _error(code: str, status: int, call, *args, **kwargs) -> ZhulianError:
    with pytest.raises(ZhulianError) as caught:
        call(*args, **kwargs)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.message and caught.value.message_zh
    return caught.value


@pytest.fixture
def service(store) -> RecordService:
    return RecordService(store)


@pytest.fixture
def gz_publisher(store) -> Principal:
    _key, secret = create_key(store, "publisher", node=GZ, name="广州节点")
    return authenticate(store, f"Bearer {secret}")


def org(name: str, **fields) -> dict:
    return {"type": "organization", "name": {"zh": name}, **fields}


def test_a_key_is_shown_once_and_only_its_digest_is_stored(store) -> None:
    key, secret = create_key(store, "reader", name="分析员")
    assert secret.startswith("zl_") and len(secret) > 40
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(api_keys)).mappings().one()
    assert secret not in str(dict(stored)) and stored["digest"] != secret
    assert list_keys(store) == [key] and "digest" not in key
    principal = authenticate(store, f"Bearer {secret}")
    assert (principal.id, principal.role) == (key["id"], "reader")


@pytest.mark.parametrize("header", ["Bearer zl_wrong", "Basic abc", "Bearer ", "zl_no_scheme"])
def test_missing_scheme_or_wrong_keys_are_401(store, header: str) -> None:
    create_key(store, "reader")
    _error("unauthorized", 401, authenticate, store, header)
    assert authenticate(store, None) == ANONYMOUS


def test_a_revoked_key_no_longer_authenticates(store) -> None:
    key, secret = create_key(store, "admin")
    revoke_key(store, key["id"])
    _error("unauthorized", 401, authenticate, store, f"Bearer {secret}")
    _error("invalid", 400, revoke_key, store, key["id"])


def test_key_creation_checks_role_and_node(store) -> None:
    error = _error("invalid", 400, create_key, store, "superuser", node="999999")
    assert {p.field for p in error.details} == {"role", "node"}
    assert _error("invalid", 400, create_key, store, "publisher").details[0].field == "node"


def test_each_access_level_is_seen_only_by_whom_it_allows(store, service, gz_publisher) -> None:
    for access in ("public", "registered"):
        service.create(CLI_ADMIN, org(f"{access} org", access=access, node=SZ))
    service.create(CLI_ADMIN, org("广州内部", access="internal", node=GZ))
    service.create(CLI_ADMIN, org("深圳内部", access="internal", node=SZ))
    reader = authenticate(store, f"Bearer {create_key(store, 'reader')[1]}")

    def seen(principal: Principal) -> set[str]:
        return {r["name"]["zh"] for r in service.list(principal, "organization").results}

    assert seen(ANONYMOUS) == {"public org"}
    assert seen(reader) == {"public org", "registered org"}
    assert seen(gz_publisher) == {"public org", "registered org", "广州内部"}
    assert seen(CLI_ADMIN) == {"public org", "registered org", "广州内部", "深圳内部"}
    hidden = service.list(CLI_ADMIN, "organization", "node:440300,access:internal").results[0]["id"]
    _error("not_found", 404, service.get, ANONYMOUS, hidden)  # as if it did not exist
    _error("not_found", 404, service.get, gz_publisher, hidden)
    assert service.group_by(ANONYMOUS, "organization", "access") == [
        {"key": "public", "key_display_name": "public", "count": 1}]


def test_relations_to_records_a_reader_may_not_see_are_hidden(service) -> None:
    secret_lab = service.create(CLI_ADMIN, {"type": "platform", "name": {"zh": "内部实验室"}, "access": "internal",
                                            "node": GZ})
    university = service.create(CLI_ADMIN, org("中山大学", relations=[{"predicate": "hosts",
                                                                   "object": secret_lab["id"]}]))
    assert service.get(CLI_ADMIN, university["id"])["relations"]
    assert service.get(ANONYMOUS, university["id"])["relations"] == []
    assert service.relations(ANONYMOUS, university["id"]) == []


def test_writes_need_a_key_and_the_right_role(store, service) -> None:
    reader = authenticate(store, f"Bearer {create_key(store, 'reader')[1]}")
    _error("unauthorized", 401, service.create, ANONYMOUS, org("x"))
    _error("forbidden", 403, service.create, reader, org("x"))
    assert store.counts() == {}


def test_a_publisher_writes_only_its_own_nodes_records(service, gz_publisher) -> None:
    mine = service.create(gz_publisher, org("广州机构"))
    assert mine["node"] == GZ
    _error("forbidden", 403, service.create, gz_publisher, org("深圳机构", node=SZ))
    theirs = service.create(CLI_ADMIN, org("深圳机构", node=SZ))
    _error("forbidden", 403, service.replace, gz_publisher, theirs["id"], org("改名"))
    _error("forbidden", 403, service.patch, gz_publisher, theirs["id"], {"aliases": ["x"]})
    _error("forbidden", 403, service.delete, gz_publisher, theirs["id"])
    _error("forbidden", 403, service.patch, gz_publisher, mine["id"], {"node": SZ})  # no moving it away
    assert service.patch(gz_publisher, mine["id"], {"aliases": ["穗"]})["aliases"] == ["穗"]


def test_patch_merges_and_removes_and_checks_the_revision(service, gz_publisher) -> None:
    record = service.create(gz_publisher, org("广州机构", aliases=["甲"], website="https://example.org"))
    patched = service.patch(gz_publisher, record["id"], {"website": None, "name": {"en": "GZ Org"}},
                            expected_revision=1)
    assert "website" not in patched and patched["name"] == {"zh": "广州机构", "en": "GZ Org"}
    assert patched["revision"] == 2 and patched["aliases"] == ["甲"]
    _error("stale", 412, service.patch, gz_publisher, record["id"], {"aliases": []}, expected_revision=1)
    _error("invalid", 400, service.patch, gz_publisher, record["id"], ["not", "an", "object"])


def test_every_write_is_audited_with_who_what_when_and_from_where(service, gz_publisher) -> None:
    record = service.create(gz_publisher, org("广州机构"), origin="203.0.113.9")
    service.replace(gz_publisher, record["id"], org("广州机构"), origin="203.0.113.9")  # no change, no entry
    service.patch(gz_publisher, record["id"], {"aliases": ["穗"]}, origin="203.0.113.9")
    service.delete(CLI_ADMIN, record["id"], origin="cli")
    entries = [e for e in service.audit(CLI_ADMIN) if e["record_id"]]  # the publisher key's creation aside
    assert [(e["actor"], e["role"], e["action"], e["revision"], e["origin"]) for e in entries] == [
        (gz_publisher.id, "publisher", "create", 1, "203.0.113.9"),
        (gz_publisher.id, "publisher", "update", 2, "203.0.113.9"),
        (CLI_ADMIN.id, "admin", "delete", 3, "cli")]
    assert all(e["record_id"] == record["id"] and e["at"] for e in entries)
    assert service.audit(CLI_ADMIN, since=entries[0]["seq"], record=record["id"]) == entries[1:]
    _error("forbidden", 403, service.audit, gz_publisher)


def test_a_refused_write_leaves_no_audit_entry(service, gz_publisher) -> None:
    _error("invalid", 400, service.create, gz_publisher, org("x", city="999999"))
    _error("forbidden", 403, service.create, gz_publisher, org("x", node=SZ))
    assert [e["action"] for e in service.audit(CLI_ADMIN)] == ["key_create"]  # the fixture's key only
