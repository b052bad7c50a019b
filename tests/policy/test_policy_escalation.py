"""Tests for policy.escalation: the handoff safety net, both directions."""

import pytest

from policy.escalation import CRISIS_HELP, detect_triggers
from policy.reasons import HANDOFF_REASONS


def reasons(text: str) -> tuple[str, ...]:
    return tuple(trigger.reason for trigger in detect_triggers(text))


CASES = {
    "crisis": [
        "ich will nicht mehr leben",
        "Ich möchte nicht mehr leben.",
        "ich bring mich um",
        "Ich bringe mich noch um wegen dieser Schulden",
        "Suizid",
        "ich denke an selbstmord",
        "selbstmort",
        "ich tu mir was an",
        "ich will mir etwas antun",
        "Das Leben hat keinen Sinn mehr",
        "ich nehm mir das leben",
        "ich will sterben",
        "I'm going to kill myself",
        "i want to end it all",
        "I want to die",
        "i wanna die",
        "I don't want to live anymore",
        "I'm suicidal",
        "thinking about ending my life",
        "I keep hurting myself",
    ],
    "insolvency": [
        "Ich bin in der Privatinsolvenz",
        "Das Insolvenzverfahren läuft seit März",
        "ich bin insolvent",
        "Verbraucherinsolvenz beantragt",
        "mein Insolvenzverwalter sagt",
        "I filed for bankruptcy",
        "I am bankrupt",
    ],
    "bereavement": [
        "Mein Mann ist verstorben",
        "meine Mutter ist letzte Woche gestorben",
        "Es gab einen Todesfall in der Familie",
        "Der Schuldner ist verstorben, ich bin die Tochter",
        "my husband passed away",
        "my father died last month",
        "this was my late wife's account",
    ],
    "dispute": [
        "Das habe ich nie bestellt",
        "Ich habe nichts bestellt!",
        "Das ist nicht meine Rechnung",
        "Das habe ich schon bezahlt",
        "hab ich doch schon bezalt",
        "ich habe bereits überwiesen",
        "Ich lege Widerspruch ein",
        "ich lege wiederspruch ein",
        "Ich widerspreche der Forderung",
        "Die Forderung ist falsch",
        "Die Ware habe ich nie erhalten",
        "I never ordered this",
        "I already paid",
        "this is not my debt",
        "I dispute this",
        "I don't owe you anything",
    ],
    "vulnerability": [
        "Ich bin schwer krank",
        "ich liege im Krankenhaus",
        "ich mache gerade eine Chemo",
        "ich habe Depressionen",
        "meine Frau ist pflegebedürftig",
        "pflegebeduerftig",
        "ich bin seit Wochen krankgeschrieben",
        "I am seriously ill",
        "I'm in hospital",
        "I have cancer",
        "I suffer from depression",
    ],
    "human_request": [
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Kann ich mit einem Menschen sprechen?",
        "ich will mit einem Mensch sprechen",
        "Bitte eine echte Person",
        "Ich will keinen Bot",
        "I want to talk to a human",
        "Can I speak to a real person?",
        "agent please",
        "let me talk to someone",
        "get me a representative",
    ],
}


@pytest.mark.parametrize(
    ("reason", "text"), [(reason, text) for reason, texts in CASES.items() for text in texts]
)
def test_triggers_are_found(reason: str, text: str) -> None:
    assert reason in reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        "ich kann nur 50 zahlen",
        "geht das auch später?",
        "Kann ich in Raten zahlen?",
        "Ich zahle nächste Woche",
        "Mein Gehalt kommt am Ersten",
        "Ich bin gerade pleite",
        "Können wir die Rate senken?",
        "Das ist mir zu viel",
        "Wie hoch ist der Betrag?",
        "Ich habe die Rechnung bekommen",
        "Gibt es einen Nachlass?",
        "Ich habe mein Gehalt noch nicht erhalten",
        "meine Krankenkasse zahlt erst später",
        "Ich suche eine Lösung",
        "Wann ist die nächste Rate fällig?",
        "ja",
        "nein danke",
        "I'll pay next week",
        "I'm sick of waiting for my salary",
        "can I pay in instalments?",
        "I can pay 50 a month",
        "I lost my job",
        "My manager says I get paid Friday",
        "I'm broke until Friday",
        "What is the total amount?",
        "Thanks, that works for me",
        "I didn't get my salary yet",
        "14.03.1987",
        "20249",
    ],
)
def test_ordinary_negotiation_raises_nothing(text: str) -> None:
    assert detect_triggers(text) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich bin insolvent und will nicht mehr leben", ("crisis", "insolvency")),
        ("I already paid and I want to speak to a human", ("dispute", "human_request")),
        (
            "Mein Mann ist gestorben, ich liege im Krankenhaus",
            ("bereavement", "vulnerability"),
        ),
    ],
)
def test_several_triggers_crisis_first(text: str, expected: tuple[str, ...]) -> None:
    assert reasons(text) == expected


def test_triggers_name_what_matched() -> None:
    (trigger,) = detect_triggers("Ich habe das NIE BESTELLT!")
    assert (trigger.reason, trigger.matched) == ("dispute", "nie bestellt")


def test_reasons_are_contract_handoff_codes() -> None:
    for texts in CASES.values():
        for text in texts:
            assert set(reasons(text)) <= HANDOFF_REASONS


def test_crisis_help_names_the_lines() -> None:
    assert "0800 111 0 111" in CRISIS_HELP["de"]
    assert "0800 111 0 222" in CRISIS_HELP["de"]
    assert "116 123" in CRISIS_HELP["en"] and "988" in CRISIS_HELP["en"]


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("insolvency", "Die Schuldnerberatung kümmert sich, ich soll nichts unterschreiben"),
        ("insolvency", "a debt charity is managing my debts now"),
        ("bereavement", "Mama ist letzte Woche friedlich eingeschlafen"),
        ("bereavement", "my dad passed in October, this was his account"),
        ("bereavement", "she is no longer with us"),
        ("vulnerability", "ich bin schizophren und gerade in einer Psychose"),
        ("vulnerability", "in a manic episode, I can't make decisions"),
        ("crisis", "doesn't matter, I won't be around much longer anyway"),
        ("dispute", "Diesen Betrag erkenne ich so nicht an"),
        ("dispute", "the bill is wrong, it was only 120"),
        ("dispute", "I cancelled the contract in May and they are still charging me"),
        ("vulnerability", "just out of surgery, still on a lot of meds"),
        ("dispute", "die Lieferung ist bis heute nicht bei mir angekommen"),
        ("dispute", "warum soll ich für einen Vertrag zahlen, den ich gar nicht mehr habe"),
        ("dispute", "I cancelled the membership in March, I have their email confirming it"),
    ],
)
def test_indirect_reasons_are_found(reason: str, text: str) -> None:
    assert reason in reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        "war krank, bin jetzt wieder gesund und will das erledigen",
        "I was in hospital but I'm fine now, let's sort it",
        "mein Schuldnerberater sagt, ich soll Raten anbieten: 40 im Monat",
        "my debt adviser suggested a payment plan",
        "I passed my driving test, now I can work again",
        "ich bin nächste Woche weg, im Urlaub",
    ],
)
def test_recovery_and_a_counsellors_plan_raise_nothing(text: str) -> None:
    assert detect_triggers(text) == ()


def test_an_insolvency_stays_one_when_instalments_are_asked() -> None:
    assert reasons("Ich bin in Privatinsolvenz, kann ich trotzdem Raten zahlen?") == ("insolvency",)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not bankrupt or anything, just a bit short this month",
        "ich bin nicht insolvent, nur grad klamm",
        "no bankruptcy or anything like that, just skint",
        "keine Privatinsolvenz, keine Sorge",
    ],
)
def test_denied_insolvency_raises_nothing(text: str) -> None:
    assert detect_triggers(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "I'm in an IVA since March",
        "not bankrupt yet, but I signed a trust deed",
        "Ich bin in der Privatinsolvenz, nicht dass Sie denken ich will nicht",
        "we entered a debt relief order last month",
    ],
)
def test_insolvency_after_or_beside_a_negation_still_counts(text: str) -> None:
    assert [t.reason for t in detect_triggers(text)] == ["insolvency"]


def test_a_negation_does_not_take_back_a_death() -> None:
    reasons = [t.reason for t in detect_triggers("I don't know what to do, my father died")]
    assert reasons == ["bereavement"]


@pytest.mark.parametrize(
    "text",
    [
        "I have learning difficulties and I dont understand what this letter means",
        "ich kann nicht gut lesen, mein sohn hilft mir",
        "I can't read or write very well",
    ],
)
def test_difficulty_reading_is_a_vulnerability(text: str) -> None:
    assert [t.reason for t in detect_triggers(text)] == ["vulnerability"]


def test_a_reference_that_cannot_be_read_is_no_vulnerability() -> None:
    assert detect_triggers("i cant read the reference on the letter") == ()


@pytest.mark.parametrize(
    "text",
    [
        "Ich denke ernsthaft darüber nach, mir das Leben zu nehmen.",
        "Die Tabletten liegen schon hier.",
        "im done with life tbh",
    ],
)
def test_more_crisis_words(text: str) -> None:
    assert [t.reason for t in detect_triggers(text)] == ["crisis"]


@pytest.mark.parametrize(
    "text",
    [
        "the amounts wrong, my last meter reading was way lower than that",
        "der Zählerstand ist falsch abgelesen",
        "the bill is wrong",
    ],
)
def test_a_wrong_amount_or_reading_is_a_dispute(text: str) -> None:
    assert [t.reason for t in detect_triggers(text)] == ["dispute"]
