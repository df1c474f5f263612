"""Both store implementations behave the same: content addressing, integrity, documents, errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mshot.config import StoreConfig
from mshot.errors import DataLoss, IntegrityError, InvalidInput, NotFound, ResourceExhausted, Unavailable
from mshot.store import ArtifactRef, open_store
from mshot.store.local import LocalStore


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return open_store(request.getfixturevalue("s3_config"))


def test_put_file_is_content_addressed_and_idempotent(store, tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"hello")
    ref = store.put_file(path, "application/octet-stream")
    assert ref.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert ref.key == f"sha256/{ref.sha256}" and ref.size_bytes == 5
    assert store.put_file(path, "application/octet-stream") == ref
    assert store.get_file(ref, tmp_path / "out.bin").read_bytes() == b"hello"
    assert store.exists(ref)


def test_large_stream_round_trips_through_multipart(store, tmp_path):
    data = bytes(range(256)) * (20 * 1024 * 1024 // 256 + 7)  # > one 16 MiB part
    chunks = (data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20))
    ref = store.put_stream(chunks, "video/mp4", expected_sha256=hashlib.sha256(data).hexdigest(),
                           expected_size=len(data))
    out = store.get_file(ref, tmp_path / "big")
    assert out.stat().st_size == len(data)


def test_truncated_upload_is_refused_and_nothing_stored(store):
    data = b"x" * 1000
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(IntegrityError, match="truncated"):
        store.put_stream([data[:600]], "video/mp4", expected_sha256=digest, expected_size=1000)
    assert not store.exists(ArtifactRef.for_digest(digest, "video/mp4", 1000))


def test_checksum_mismatch_is_refused(store):
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        store.put_stream([b"abc"], "video/mp4", expected_sha256="0" * 64)


def test_upload_past_limit_is_resource_exhausted(store):
    with pytest.raises(ResourceExhausted, match="limit of 10 bytes"):
        store.put_stream([b"0123456789", b"x"], "video/mp4", max_bytes=10)


def test_reference_whose_hash_does_not_match_the_key_is_invalid(store, tmp_path):
    bad = ArtifactRef("sha256/" + "a" * 64, "b" * 64, "video/mp4", 1)
    with pytest.raises(InvalidInput, match="does not match"):
        store.get_file(bad, tmp_path / "x")


def test_missing_artifact_is_not_found(store, tmp_path):
    with pytest.raises(NotFound):
        store.get_file(ArtifactRef.for_digest("c" * 64, "video/mp4", 1), tmp_path / "x")


def test_documents_replace_and_list(store):
    store.put_document("jobs/a.json", b"1")
    store.put_document("jobs/a.json", b"2")
    store.put_document("jobs/b.json", b"3")
    store.put_document("other/c.json", b"4")
    assert store.get_document("jobs/a.json") == b"2"
    assert store.get_document("jobs/missing.json") is None
    assert store.list_documents("jobs/") == ["jobs/a.json", "jobs/b.json"]


def _overwrite_stored(store, ref, data: bytes) -> None:
    """What a rogue presigned PUT or a failing disk does: replace the bytes under an existing key."""
    import io

    if isinstance(store, LocalStore):
        stored = Path(store.root) / ref.key
        stored.chmod(0o644)
        stored.write_bytes(data)
    else:
        store.client.put_object(store.bucket, store._object(ref.key), io.BytesIO(data), len(data))


def test_corrupt_stored_artifact_is_data_loss_removed_and_repaired_by_storing_it_again(store, tmp_path):
    src = tmp_path / "a"
    src.write_bytes(b"original")
    ref = store.put_file(src, "application/octet-stream")
    _overwrite_stored(store, ref, b"tampered")
    with pytest.raises(DataLoss, match="corrupt"):
        store.get_file(ref, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not store.exists(ref)  # removed, so the right bytes can be stored again
    assert store.put_file(src, "application/octet-stream") == ref
    assert store.get_file(ref, tmp_path / "out").read_bytes() == b"original"


@pytest.mark.parametrize("name", ["jobs/" + "a" * 300 + ".json", "jobs/../x.json", "jobs/.hidden", "/etc/passwd",
                                  "jobs/a b.json", ""])
def test_bad_document_name_is_invalid_input_in_every_store(store, name):
    with pytest.raises(InvalidInput, match="bad document name"):
        store.get_document(name)
    with pytest.raises(InvalidInput, match="bad document name"):
        store.put_document(name, b"{}")


def test_s3_store_that_is_down_is_unavailable():
    config = StoreConfig(location="s3://bucket", s3_endpoint="127.0.0.1:9", s3_access_key="a", s3_secret_key="b")
    with pytest.raises(Unavailable, match="unreachable"):
        open_store(config)


def test_presigned_put_upload_is_verified(s3_config, tmp_path):
    import urllib.request

    store = open_store(s3_config)
    data = b"video bytes"
    ref = ArtifactRef.for_digest(hashlib.sha256(data).hexdigest(), "video/mp4", len(data))
    url = store.presigned_put_url(ref, 60)
    request = urllib.request.Request(url, data=b"wrong bytes", method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(request).close()
    with pytest.raises(DataLoss):
        store.verify(ref, tmp_path)
    assert not store.exists(ref)  # a corrupt upload does not poison the content address
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(request).close()
    store.verify(ref, tmp_path)


def test_resigning_a_presigned_url_without_extra_headers_reproduces_the_sdks_signature(s3_config):
    from urllib.parse import parse_qsl, urlsplit

    from mshot.store.presign import sign_headers

    store = open_store(s3_config)
    url = store.client.presigned_put_object(store.bucket, "sha256/" + "a" * 64)
    assert dict(parse_qsl(urlsplit(sign_headers(url, s3_config.s3_secret_key, {})).query)) == \
        dict(parse_qsl(urlsplit(url).query))


def test_presigned_upload_signs_the_checksum_and_no_overwrite_and_the_store_refuses_a_second_put(s3_config, tmp_path):
    import urllib.error
    import urllib.request
    from urllib.parse import parse_qs, urlsplit

    from mshot.store.presign import checksum_header, upload_headers

    store = open_store(s3_config)
    data = b"video bytes"
    ref = ArtifactRef.for_digest(hashlib.sha256(data).hexdigest(), "video/mp4", len(data))
    url = store.presigned_put_url(ref, 60)
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0]
    assert signed == "host;if-none-match;x-amz-checksum-sha256"
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of no bytes
    assert checksum_header(empty) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # as S3 documents it
    headers = {**upload_headers(ref.sha256), "Content-Type": "application/octet-stream"}

    def put(body: bytes) -> None:
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers=headers)).close()

    put(data)
    with pytest.raises(urllib.error.HTTPError) as info:  # if-none-match: * - the stored key is never overwritten
        put(b"garbage replayed with the same URL")
    assert info.value.code == 412
    store.verify(ref, tmp_path)
