"""The ids of the streams: derived from slugs with ``uuid5``, so every process finds the same
stream for the same name (a negotiation, a party record, a statement id of the registry)."""

from __future__ import annotations

import functools
import hashlib
from uuid import NAMESPACE_URL, UUID, uuid5

from positions.codebook import Amendment, Correction

NAMESPACE = uuid5(NAMESPACE_URL, "urn:positions")


def index_id() -> UUID:
    return uuid5(NAMESPACE, "index")


def negotiation_id(negotiation: str) -> UUID:
    return uuid5(NAMESPACE, f"negotiation:{negotiation}")


@functools.lru_cache(maxsize=1024)
def record_id(negotiation: str, party: str) -> UUID:
    return uuid5(NAMESPACE, f"negotiation:{negotiation}/party:{party}")


def registry_id(negotiation: str) -> UUID:
    """The stream whose one event says a negotiation's registry is complete (ADR 0017)."""
    return uuid5(NAMESPACE, f"negotiation:{negotiation}/registry")


def statement_key(negotiation: str, statement: str) -> UUID:
    """The registry stream of a statement id: one per id in a negotiation."""
    return uuid5(NAMESPACE, f"negotiation:{negotiation}/statement:{statement}")


def correction_key(negotiation: str, correction: Correction) -> UUID:
    """The registry stream of a correction: named by its content (the fields given, so that a
    field added later with a default names the same stream), one per correction recorded."""
    content = correction.model_dump_json(exclude_defaults=True).encode()
    return uuid5(
        NAMESPACE, f"negotiation:{negotiation}/correction:{hashlib.sha256(content).hexdigest()}"
    )


def amendment_key(negotiation: str, amendment: Amendment) -> UUID:
    """The registry stream of an amendment: named by its content, as `correction_key`."""
    content = amendment.model_dump_json(exclude_defaults=True).encode()
    return uuid5(
        NAMESPACE, f"negotiation:{negotiation}/amendment:{hashlib.sha256(content).hexdigest()}"
    )


def fix_key(negotiation: str, fix: Correction | Amendment) -> UUID:
    """The registry stream of a correction or an amendment."""
    if isinstance(fix, Amendment):
        return amendment_key(negotiation, fix)
    return correction_key(negotiation, fix)
