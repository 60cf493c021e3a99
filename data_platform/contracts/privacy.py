"""Which columns of a dataset are personal, and how staged and every later layer hold them.

```yaml
columns:
  patient_id: {type: string, pii: id}             # hash (keyed HMAC: joins still work)
  email:      {type: string, pii: email}          # hash
  full_name:  {type: string, pii: name}           # redact
  birth_date: {type: date,   pii: date_of_birth}  # generalise: the year
  zip:        {type: string, pii: postal_code}    # generalise: the first 3 characters
  client_ip:  {type: string, pii: ip, action: drop}
  notes:      {type: string, pii: free_text}      # scrub identifiers inside the text
```
Raw keeps the originals (the record of what arrived); staged, transformed, embedded,
inference, labeling tasks, exports and the Dagster previews hold the de-identified values.
"""

from __future__ import annotations

from typing import Literal

PiiKind = Literal[
    "id", "email", "phone", "name", "address", "date_of_birth", "postal_code", "ip",
    "free_text", "other",
]  # fmt: skip
PiiAction = Literal["hash", "redact", "generalise", "scrub", "drop"]

DEFAULT_ACTION: dict[str, PiiAction] = {
    "id": "hash",
    "email": "hash",
    "phone": "hash",
    "ip": "hash",
    "name": "redact",
    "address": "redact",
    "other": "redact",
    "date_of_birth": "generalise",
    "postal_code": "generalise",
    "free_text": "scrub",
}
# which column types each action takes (it keeps the column's type)
ACTION_TYPES: dict[str, tuple[str, ...]] = {
    "hash": ("string", "integer"),
    "redact": ("string",),
    "generalise": ("date", "datetime", "string"),
    "scrub": ("string",),
    "drop": ("integer", "float", "boolean", "string", "date", "datetime", "list"),
}


def check_action(kind: str, action: str | None, column_type: str) -> None:
    """A ValueError naming what fits when `action` cannot apply to a column of that type."""
    if action is None:
        return
    allowed = ACTION_TYPES[action]
    if column_type not in allowed:
        raise ValueError(
            f"pii {kind}: action {action} applies to {', '.join(allowed)} columns, not "
            f"{column_type} (choose another `action:`, e.g. drop)"
        )
