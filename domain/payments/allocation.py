"""How a credit is spread: oldest open instalment first, then further ones, then the balance.

A payment meets a list of slots, oldest due first: each open instalment of a
pending plan, each pending one-off promise (full payment, settlement, deferral),
and last the claim's own balance. A slot of a promise over several claims has
one part per claim (domain/promises/models.py: InstalmentPart, PromiseClaim), so
the money reaches each claim's part, as the debtor's promise split it. A slot
the payment cannot fill is split over its parts pro rata in whole cents
(largest remainder, oldest claim first, policy.allocation), so a short payment
reaches every creditor of the promise in proportion.

No claim receives more than it still owes (`room`): what is left after the
last slot stays on the payment, unallocated, for an agent (an overpayment).
Pure: amounts in, shares out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from policy.allocation import largest_remainder
from policy.money import from_minor, to_minor

ZERO = Decimal("0.00")
# What a slot is, for the caller: (kind, promise id, instalment id).
SlotKey = tuple[str, int | None, int | None]


@dataclass(frozen=True)
class Slot:
    """Something a payment can pay, with what each claim's part of it still lacks.

    `key` names it for the caller (e.g. `("instalment", promise_id, instalment_id)`);
    `parts` are (claim reference, open amount), oldest claim first.
    """

    key: SlotKey
    parts: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Share:
    """Money of one payment that goes to one claim's part of one slot."""

    key: SlotKey
    claim_reference: str
    amount: Decimal


def allocate(
    amount: Decimal, slots: Sequence[Slot], room: Mapping[str, Decimal]
) -> tuple[list[Share], Decimal]:
    """Spread `amount` over the slots in order; return the shares and what is left over."""
    left = amount
    room = dict(room)
    shares: list[Share] = []
    for slot in slots:
        if left <= 0:
            break
        parts = [
            (reference, max(ZERO, min(open_amount, room.get(reference, ZERO))))
            for reference, open_amount in slot.parts
        ]
        wanted = sum((part for _, part in parts), ZERO)
        if wanted <= 0:
            continue
        if left >= wanted:
            paid = [part for _, part in parts]
        else:
            split = largest_remainder(to_minor(left), [to_minor(part) for _, part in parts])
            paid = [from_minor(minor) for minor in split]
        for (reference, _), value in zip(parts, paid, strict=True):
            if value > 0:
                shares.append(Share(slot.key, reference, value))
                room[reference] -= value
                left -= value
    return shares, left
