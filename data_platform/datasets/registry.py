"""The datasets the platform knows. Add one `DatasetSpec` to add a dataset."""

from __future__ import annotations

from data_platform.core.generate import (
    REVIEW_CLASSES,
    TICKET_CLASSES,
    generate_reviews,
    generate_tickets,
)
from data_platform.datasets.spec import DatasetSpec
from data_platform.schemas.reviews import StagedReviews
from data_platform.schemas.tickets import StagedTickets

REVIEWS = DatasetSpec(
    name="reviews",
    schema=StagedReviews,
    id_column="review_id",
    text_column="text",
    label_column="category",
    classes=REVIEW_CLASSES,
    generator=generate_reviews,
    description="Product reviews: free text, a product category label, rating, price, votes.",
)

TICKETS = DatasetSpec(
    name="tickets",
    schema=StagedTickets,
    id_column="ticket_id",
    text_column="body",
    label_column="priority",
    classes=TICKET_CLASSES,
    generator=generate_tickets,
    description="Support tickets: free-text body, a priority label, reply time, escalation.",
)

DATASETS: tuple[DatasetSpec, ...] = (REVIEWS, TICKETS)


def get_dataset(name: str) -> DatasetSpec:
    for spec in DATASETS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in DATASETS)
    raise KeyError(f"unknown dataset {name!r}; declared datasets: {known}")
