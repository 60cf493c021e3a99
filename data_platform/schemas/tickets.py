"""The staged `tickets` table: support tickets with a priority label."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_platform.core.generate import TICKET_CLASSES


class StagedTickets(pa.DataFrameModel):
    """A support ticket after typing and cleaning."""

    ticket_id: str = pa.Field(unique=True, nullable=False, str_length={"min_value": 1})
    body: str = pa.Field(nullable=False, str_length={"min_value": 1})
    priority: str = pa.Field(nullable=False, isin=list(TICKET_CLASSES))
    reply_minutes: pl.Float64 = pa.Field(nullable=False, ge=0)
    is_escalated: pl.Boolean = pa.Field(nullable=False)
    opened_at: pl.Datetime(time_unit="us", time_zone="UTC") = pa.Field(nullable=False)

    class Config:
        strict = True
        coerce = False
