"""The call's TwiML documents: streams with their parameters, replies, transfers."""

from __future__ import annotations

from xml.etree import ElementTree

from voice.twiml import Voice

CALL = "CA" + "ab" * 16


def _voice(public_url: str = "https://quitt.example") -> Voice:
    return Voice(public_url=public_url, secret="s" * 32)


def _params(stream: ElementTree.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in stream.iter("Parameter")}


def test_the_answer_listens_says_the_opening_and_hands_over_the_turn() -> None:
    voice = _voice()
    root = ElementTree.fromstring(voice.answer(call_sid=CALL, language="de", text="Guten Tag"))
    assert [child.tag for child in root] == ["Start", "Say", "Connect"]
    listen = root.find("Start/Stream")
    turn = root.find("Connect/Stream")
    assert listen is not None and turn is not None
    assert listen.get("url") == turn.get("url") == "wss://quitt.example/twilio/voice/stream"
    assert listen.get("track") == "inbound_track" and listen.get("name") == "quitt-listen"
    assert _params(listen) == {
        "callSid": CALL,
        "language": "de",
        "role": "listen",
        "token": voice.token(CALL),
    }
    assert _params(turn)["role"] == "turn"
    say = root.find("Say")
    assert say is not None
    assert (say.get("voice"), say.get("language"), say.text) == (
        "Polly.Vicki-Neural",
        "de-DE",
        "Guten Tag",
    )


def test_a_reply_is_said_in_the_language_then_the_turn_stream_reopens() -> None:
    root = ElementTree.fromstring(_voice().reply(call_sid=CALL, language="en", text="Thank you."))
    assert [child.tag for child in root] == ["Say", "Connect"]
    say = root.find("Say")
    assert say is not None and (say.get("voice"), say.get("language")) == (
        "Polly.Amy-Neural",
        "en-GB",
    )
    # Barge-in: an empty reply only opens the caller's turn (cutting what is being said).
    cut = ElementTree.fromstring(_voice().reply(call_sid=CALL, language="en", text=""))
    assert [child.tag for child in cut] == ["Connect"]


def test_stream_tokens_belong_to_one_call_and_one_secret() -> None:
    voice = _voice()
    assert voice.valid_token(CALL, voice.token(CALL))
    assert not voice.valid_token("CA" + "cd" * 16, voice.token(CALL))
    assert not Voice(public_url="x", secret="other" * 8).valid_token(CALL, voice.token(CALL))
    assert not Voice(public_url="x", secret="").valid_token(CALL, Voice("x").token(CALL))


def test_the_stream_url_follows_the_public_url() -> None:
    assert _voice("http://127.0.0.1:8000/").stream_url == "ws://127.0.0.1:8000/twilio/voice/stream"
    assert _voice("https://a.example").stream_url == "wss://a.example/twilio/voice/stream"


def test_a_transfer_stops_listening_and_dials_or_enqueues() -> None:
    voice = _voice()
    dial = ElementTree.fromstring(
        voice.transfer(
            language="de",
            text="Ich verbinde Sie.",
            agent_number="+4930555000",
            queue="quitt-agents",
            hold_music_url=None,
        )
    )
    assert [child.tag for child in dial] == ["Stop", "Say", "Dial"]
    stop = dial.find("Stop/Stream")
    assert stop is not None and stop.get("name") == "quitt-listen"
    assert dial.findtext("Dial") == "+4930555000"
    queued = ElementTree.fromstring(
        voice.transfer(
            language="en",
            text="One moment.",
            agent_number=None,
            queue="quitt-agents",
            hold_music_url="https://quitt.example/hold.mp3",
        )
    )
    enqueue = queued.find("Enqueue")
    assert enqueue is not None and enqueue.text == "quitt-agents"
    assert enqueue.get("waitUrl") == "https://quitt.example/hold.mp3"
    plain = ElementTree.fromstring(
        voice.transfer(language="en", text="", agent_number=None, queue="q", hold_music_url=None)
    )
    assert [child.tag for child in plain] == ["Stop", "Enqueue"]


def test_goodbye_hangs_up() -> None:
    root = ElementTree.fromstring(_voice().goodbye(language="de", text="Auf Wiederhören."))
    assert [child.tag for child in root] == ["Say", "Hangup"]
