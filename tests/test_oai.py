"""OAI-PMH 2.0 at /oai, harvested by Sickle (a client library we did not write) from a real node process."""

from __future__ import annotations


import httpx
import pytest
from sickle import Sickle
from sickle.oaiexceptions import BadArgument, BadResumptionToken, CannotDisseminateFormat, IdDoesNotExist

from tests.federation.cluster import Node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):
    gz = Node("gz", tmp_path_factory.mktemp("oai") / "gz", "440100")
    gz.start()
    key = gz.key("publisher")
    records = [{"type": "organization", "name": {"zh": f"开放机构{i:03d}", "en": f"Open Institute {i}"},
                "kind": "university", "city": "440100", "keywords": ["开放数据"]} for i in range(130)]
    records.append({"type": "organization", "name": {"zh": "内部机构"}, "kind": "enterprise", "access": "internal"})
    gz.publish(key, "orgs", records)
    patent = httpx.post(f"{gz.url}/api/v1/patents", headers={"Authorization": f"Bearer {key}"}, json={
        "type": "patent", "title": {"zh": "一种石墨烯散热膜"}, "inventors": ["张三"], "keywords": ["石墨烯"]}).json()
    doomed, withdrawn = sorted(gz.live())[:2]
    auth = {"Authorization": f"Bearer {key}"}
    tag = httpx.get(f"{gz.url}/api/v1/orgs/{doomed}", headers=auth).headers["etag"]
    httpx.delete(f"{gz.url}/api/v1/orgs/{doomed}", headers={**auth, "If-Match": tag})
    etag = httpx.get(f"{gz.url}/api/v1/orgs/{withdrawn}").headers["etag"]
    made_internal = httpx.patch(f"{gz.url}/api/v1/orgs/{withdrawn}", json={"access": "internal"},
                                headers={**auth, "If-Match": etag})
    assert made_internal.status_code == 200, made_internal.text
    yield gz, patent, doomed, withdrawn
    gz.stop()


def test_identify_formats_and_sets(node) -> None:
    gz, _patent, _doomed, _withdrawn = node
    sickle = Sickle(f"{gz.url}/oai")
    identify = sickle.Identify()
    assert identify.protocolVersion == "2.0" and identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert {f.metadataPrefix for f in sickle.ListMetadataFormats()} == {"oai_dc", "zhulian"}
    assert {"organization", "patent", "policy"} <= {s.setSpec for s in sickle.ListSets()}


def test_list_records_pages_with_resumption_and_keeps_deleted_records(node) -> None:
    gz, _patent, doomed, withdrawn = node
    records = list(Sickle(f"{gz.url}/oai").ListRecords(metadataPrefix="oai_dc", set="organization"))
    identifiers = [r.header.identifier for r in records]
    # 128 public, one deleted, one made internal; the one internal from the start was never an item
    assert len(identifiers) == len(set(identifiers)) == 130
    deleted = [r for r in records if r.header.deleted]
    assert sorted(r.header.identifier for r in deleted) == sorted(f"oai:gz:organization/{i}" for i in (doomed, withdrawn))
    assert all("metadata" not in r.raw for r in deleted)  # a deletion carries no content
    live = next(r for r in records if not r.header.deleted)
    assert live.metadata["type"] == ["organization"] and live.metadata["subject"] == ["开放数据"]
    assert any(title.startswith("开放机构") for title in live.metadata["title"])


def test_a_record_withdrawn_from_the_public_is_a_deletion_not_unknown(node) -> None:
    gz, _patent, _doomed, withdrawn = node
    sickle = Sickle(f"{gz.url}/oai")
    record = sickle.GetRecord(identifier=f"oai:gz:organization/{withdrawn}", metadataPrefix="zhulian")
    assert record.header.deleted and "metadata" not in record.raw
    stamp = httpx.get(f"{gz.url}/oai", params={"verb": "GetRecord", "metadataPrefix": "oai_dc",
                                               "identifier": f"oai:gz:organization/{withdrawn}"}).text
    assert 'status="deleted"' in stamp and "idDoesNotExist" not in stamp


def test_get_record_in_both_formats_and_from_until(node) -> None:
    gz, patent, _doomed, _withdrawn = node
    sickle = Sickle(f"{gz.url}/oai")
    identifier = f"oai:gz:patent/{patent['id']}"
    dc = sickle.GetRecord(identifier=identifier, metadataPrefix="oai_dc")
    assert dc.metadata["title"] == ["一种石墨烯散热膜"] and dc.metadata["creator"] == ["张三"]
    whole = sickle.GetRecord(identifier=identifier, metadataPrefix="zhulian")
    assert "一种石墨烯散热膜" in whole.raw and patent["id"] in whole.raw
    day = patent["updated"][:10]
    found = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set="patent", **{"from": day, "until": day})]
    assert found == [identifier]
    with pytest.raises(Exception, match="noRecordsMatch|No records"):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="patent", **{"from": "2001-01-01", "until": "2001-01-02"}))


def test_protocol_errors(node) -> None:
    gz, _patent, _doomed, _withdrawn = node
    sickle = Sickle(f"{gz.url}/oai")
    with pytest.raises(CannotDisseminateFormat):
        sickle.GetRecord(identifier="oai:gz:patent/pat_01JDZ0000000000000000000AA", metadataPrefix="marc21")
    with pytest.raises(IdDoesNotExist):
        sickle.GetRecord(identifier="oai:gz:patent/pat_01JDZ0000000000000000000AA", metadataPrefix="oai_dc")
    with pytest.raises(BadArgument):
        list(sickle.ListRecords(metadataPrefix="oai_dc", **{"from": "2020-01-01", "until": "2020-01-01T00:00:00Z"}))
    with pytest.raises(BadResumptionToken):
        list(sickle.ListRecords(resumptionToken="not-a-token"))
    reply = httpx.get(f"{gz.url}/oai", params={"verb": "Explode"})
    assert reply.status_code == 200 and 'code="badVerb"' in reply.text
