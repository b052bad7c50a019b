"""Sanity checks for NLU data: parse, counts per intent/language, duplicates, held-out leakage.

Run from the repo root: python3 bot/heldout/check_nlu.py
Training files are named *_de.yml / *_en.yml; held-out files nlu_de.yml / nlu_en.yml.
"""

import collections
import glob
import re
import sys

import yaml

INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "inform",
    "pay_full",
    "ask_settlement",
    "ask_deferral",
    "ask_instalments",
    "cannot_pay",
    "ask_claim_details",
    "choose_all",
    "dispute",
    "insolvency",
    "bereavement",
    "vulnerability",
    "crisis",
    "human_request",
    "bot_challenge",
    "ask_consequences",
    "ask_privacy",
    "chitchat",
    "out_of_scope",
]


def load(path):
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert str(data["version"]) == "3.1", path
    out = []
    for block in data["nlu"]:
        intent = block["intent"]
        assert intent in INTENTS, (path, intent)
        for line in block["examples"].splitlines():
            line = line.strip()
            if not line:
                continue
            assert line.startswith("- "), (path, line)
            text = line[2:].strip()
            assert "[" not in text and "](" not in text, ("entity annotation?", path, text)
            out.append((intent, text))
    return out


def lang_of(path):
    m = re.search(r"_(de|en)\.yml$", path)
    return m.group(1)


def norm(t):
    t = re.sub(r"[.,!?;:'\"()\-]+", " ", t.lower())
    return re.sub(r"\s+", " ", t).strip()


def main():
    train = {"de": [], "en": []}
    for f in sorted(glob.glob("bot/data/nlu/*.yml")):
        train[lang_of(f)] += load(f)
    held = {
        lang: load(f"bot/heldout/nlu_{lang}.yml")
        for lang in ("de", "en")
        if glob.glob(f"bot/heldout/nlu_{lang}.yml")
    }

    ok = True
    alltrain = train["de"] + train["en"]
    seen = {}
    for intent, text in alltrain:
        k = norm(text)
        if k in seen and seen[k] != intent:
            print(f"CONFLICT in training: {text!r} -> {seen[k]} / {intent}")
            ok = False
        elif k in seen:
            print(f"duplicate in training: {text!r} ({intent})")
        seen[k] = intent
    for lang, ex in held.items():
        for intent, text in ex:
            if norm(text) in seen:
                where = seen[norm(text)]
                print(f"LEAK ({lang}): held-out {text!r} ({intent}) also in training ({where})")
                ok = False

    print(f"\n{'intent':20s} {'train_de':>8s} {'train_en':>8s} {'held_de':>8s} {'held_en':>8s}")
    tot = collections.Counter()
    for intent in INTENTS:
        row = []
        for name, src in (
            ("td", train["de"]),
            ("te", train["en"]),
            ("hd", held.get("de", [])),
            ("he", held.get("en", [])),
        ):
            n = sum(1 for i, _ in src if i == intent)
            tot[name] += n
            row.append(n)
        print(f"{intent:20s} " + " ".join(f"{n:8d}" for n in row))
    print(f"{'TOTAL':20s} " + " ".join(f"{tot[k]:8d}" for k in ("td", "te", "hd", "he")))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
