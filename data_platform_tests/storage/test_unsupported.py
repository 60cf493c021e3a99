"""MinIO features SeaweedFS lacks: the server's actual refusal, asserted so it is on record.

The platform does not rely on them: uploads are detected by listing (as the Dagster
landing sensor does), and queries run in DuckDB/polars rather than S3 Select. These tests
call the raw SDK through `store.client`, since `ObjectStore` offers neither API.
"""

from __future__ import annotations

import pytest
from minio.error import S3Error
from minio.select import CSVInputSerialization, CSVOutputSerialization, SelectRequest

from data_platform.storage import ObjectStore, StorageError, Unsupported
from data_platform.storage.errors import translate

pytestmark = pytest.mark.integration


def test_listen_bucket_notification_is_refused_as_not_implemented(store: ObjectStore):
    events = store.client.listen_bucket_notification(store.bucket, events=["s3:ObjectCreated:*"])
    with pytest.raises(S3Error) as refused:
        next(iter(events))  # the SDK sends the request when iteration starts
    assert refused.value.code == "NotImplemented"
    mapped = translate(refused.value, bucket=store.bucket)
    assert isinstance(mapped, Unsupported)
    assert "does not implement" in str(mapped)


def test_bucket_notification_config_is_empty(store: ObjectStore):
    config = store.client.get_bucket_notification(store.bucket)
    assert config.queue_config_list == config.topic_config_list == []


def test_s3_select_is_refused(store: ObjectStore):
    store.put_bytes("rows.csv", b"a,b\n1,2\n", content_type="text/csv")
    request = SelectRequest(
        "select * from S3Object", CSVInputSerialization(), CSVOutputSerialization()
    )
    with pytest.raises(S3Error) as refused:
        store.client.select_object_content(store.bucket, "rows.csv", request)
    assert refused.value.code == "MethodNotAllowed"
    mapped = translate(refused.value, bucket=store.bucket, key="rows.csv")
    assert type(mapped) is StorageError
    assert mapped.code == "MethodNotAllowed"
    assert f"s3://{store.bucket}/rows.csv" in str(mapped)
