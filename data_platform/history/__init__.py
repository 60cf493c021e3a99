"""An upsert dataset's history: every published version of a row, and point-in-time reads.

`history.<dataset>` holds each version as it was published (`_valid_from`: when its upload
was ingested); `_valid_to` is derived on read (the next version of the key). A point-in-time
join gives, for each event `(key, time)`, the version current at that time, never a later
one (Feast's `get_historical_features`).
"""

from data_platform.history.join import point_in_time_join, read_versions, with_validity

__all__ = ["point_in_time_join", "read_versions", "with_validity"]
