"""Explicit abuse (policy.abuse): insults and threats, not annoyance."""

import pytest

from policy.abuse import is_abusive


@pytest.mark.parametrize(
    "text",
    [
        "Ihr seid doch alle Verbrecher und Halsabschneider",
        "verpisst euch, ihr Wichser",
        "Drecksladen, ich weiß wo euer Büro ist",
        "You f***ing scammers, I know where your office is",
        "piss off you bloodsuckers",
        "hope you all rot in hell, parasites",
    ],
)
def test_insults_and_threats_are_abuse(text: str) -> None:
    assert is_abusive(text)


@pytest.mark.parametrize(
    "text",
    [
        "Das ist ja eine Frechheit mit den Gebühren!",
        "puh, das ist ja mehr als gedacht",
        "so ein Mist, das hab ich total vergessen",
        "this is ridiculous, why are the fees so high",
        "shut up and take my money, I'll pay it all",
        "I'm so annoyed with myself, sorry",
        "the parcel never arrived",
        "",
    ],
)
def test_annoyance_is_not_abuse(text: str) -> None:
    assert not is_abusive(text)
