"""Words that protect (issue 17), without any channel: what the survivor screens say and do not
say, the directory's lines, the hotline's notes, and the content check's rules on them."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.content import CONTENT_DIR, Directory, check, load_directory
from bot.content.check import SURVIVOR_SOURCES, claims_not_stored
from bot.content.protocols import MANDATORY, read_protocols
from bot.flows import decision, referral
from bot.flows.base import Event, FlowModel
from bot.flows.place import CONFIRM, REGIONS, WHERE
from bot.flows.screens import Contact, Output, Screen
from bot.flows.survivor import (
    CONSENT,
    HANDOVER,
    LANGUAGE,
    MENU,
    NEW,
    SurvivorFlow,
    is_help_word,
    wants_help,
    wants_quick_exit,
)
from bot.hotline import service
from bot.hotline.hours import BAMAKO, Hours
from bot.i18n import LOCALES_DIR, Catalogs, Translator

DIRECTORY = load_directory()
OPEN = SurvivorFlow(
    DIRECTORY,
    Hours.parse("mon-sun 00:00-24:00"),
    clock=lambda: datetime(2026, 12, 7, tzinfo=BAMAKO),
)
CATALOGS = Catalogs()
FR, EN = CATALOGS.translator("fr"), CATALOGS.translator("en")
# Words that would tell someone glancing at a lock screen what the chat is about.
REVEALING = ("violence", "viol", "vbg", "gbv", "sexu", "abus", "agress", "victim", "surviv",
             "plainte", "vih", "rape", "hiv", "complaint", "danger", "🆘", "écoute",
             "hotline")  # fmt: skip


async def step(state: str, event: Event, flow: SurvivorFlow = OPEN) -> tuple[str, list[Output]]:
    model = FlowModel({}, "fr")
    flow.machine.add_model(model, initial=state)
    try:
        outputs = await flow.step(model, event)
    finally:
        flow.machine.remove_model(model)
    return model.state, outputs


def shown(screen: Output, translator: Translator = FR) -> str:
    assert isinstance(screen, Screen)
    return "\n\n".join(translator.render(p) for p in screen.body)


# --- help words (point 4) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    ["au secours", "AU SECOURS !!", "o secours", "ausecour", "aidez-moi", "Aidez moi svp",
     "aider moi", "SOS", "s.o.s", "sos sos", "urgence", "urgance", "n dɛmɛ", "n deme", "an dɛmɛ",
     "help me", "emergency"],
)  # fmt: skip
def test_help_words_and_their_variants_are_recognised(word: str) -> None:
    assert is_help_word(word)


@pytest.mark.parametrize(
    "text",
    ["aide", "help", "dɛmɛ", "bonjour", "Ségou", "Sévaré", "Konna", "sortir", "merci",
     "au secours il me frappe"],
)  # fmt: skip
def test_other_words_are_not_help_words(text: str) -> None:
    assert not is_help_word(text)


def test_the_quick_exit_keeps_its_priority() -> None:
    for word in ("exit", "quitter", "sortir", "bɔ"):
        event = Event("text", 1, text=word)
        assert wants_quick_exit(event)
        assert not wants_help(event)


@pytest.mark.parametrize("state", [NEW, LANGUAGE, MENU, WHERE, REGIONS, CONFIRM, CONSENT, HANDOVER])
async def test_help_words_open_the_danger_screen_from_any_state(state: str) -> None:
    after, outputs = await step(state, Event("text", 2, text="Au secours"))
    assert after == MENU
    assert shown(outputs[-1]).startswith("☎️ Numéros utiles")  # under the cards
    assert {o.phone for o in outputs if isinstance(o, Contact)} == {
        n.number for n in DIRECTORY.numbers
    }


# --- the danger screen and the plan (points 3 and 5) ------------------------------------------


async def test_the_danger_screen_gives_real_status_a_safe_place_and_the_plan() -> None:
    _, outputs = await step(MENU, Event("button", 3, name="nav:emergency"))
    danger = outputs[-1]
    assert isinstance(danger, Screen)
    text = shown(danger)
    assert text.count("(pas encore confirmé par téléphone)") == len(DIRECTORY.numbers)
    assert (
        "allez dans un lieu sûr : chez une personne de confiance, dans un centre de santé" in text
    )
    assert "ou à la police ou à la gendarmerie si vous vous y sentez en sécurité" in text
    assert "il ne peut pas envoyer de secours chez vous" in text
    assert "personne ne lit" not in text  # never contradicts "someone is reading now"
    assert [b.data for row in danger.buttons for b in row][:2] == ["nav:plan", "nav:emergency"]
    names = [FR.render(o.name) for o in outputs if isinstance(o, Contact)]
    assert names == ["Police 80 00 11 15", "Gendarmerie 80 00 11 14", "Numéro vert 80 00 11 32",
                     "Numéro vert 80 333"]  # fmt: skip


async def test_with_every_number_hidden_the_danger_screen_still_says_where_to_go() -> None:
    flow = SurvivorFlow(Directory(DIRECTORY.centres, [], DIRECTORY.places))
    _, outputs = await step(MENU, Event("button", 4, name="nav:emergency"), flow)
    assert "allez dans un lieu sûr" in shown(outputs[-1])


async def test_the_plan_is_one_tap_away_and_tells_the_truth_about_the_quick_exit() -> None:
    after, outputs = await step(MENU, Event("button", 5, name="nav:plan"))
    assert after == MENU
    text = shown(outputs[0])
    for must in ("personne de confiance", "mot code", "téléphone chargé", "papiers importants",
                 "désactivez l'aperçu des messages", "des deux derniers jours",
                 "La conversation reste dans votre liste de discussions",
                 "appuyez longuement sur « Jigiya », puis choisissez Supprimer"):  # fmt: skip
        assert must in text, must


# --- consent (point 1) --------------------------------------------------------------------------


async def test_consent_says_who_reads_what_is_kept_and_the_limits_of_confidentiality() -> None:
    _, outputs = await step(MENU, Event("button", 6, name="nav:talk"))
    text = shown(outputs[-1])
    for must in (
        "pouvez-vous écrire en sécurité maintenant",
        "des personnes formées de la ligne d'écoute, dans un groupe sur Telegram",
        "Elles ne peuvent pas envoyer de secours chez vous.",
        "vos messages sont copiés dans ce groupe et y restent jusqu'à ce que l'historique",
        "sauf si une vie est en danger, ou si un enfant de moins de 18 ans est en danger",
        "alerter un service de protection, et elle vous le dira avant",
        "Les réponses de l'équipe arrivent sans son.",
        "Vous pouvez arrêter à tout moment",
        "Quelqu'un lit les messages en ce moment.",
    ):
        assert must in text, must
    assert not claims_not_stored(text)
    assert not claims_not_stored(shown(outputs[-1], EN))


async def test_consent_gives_how_many_days_staff_keep_the_conversation() -> None:
    """The operator's STAFF_HISTORY_DAYS, not "some time": she decides knowing how long."""
    kept = SurvivorFlow(DIRECTORY, Hours.parse("mon-sun 00:00-24:00"), history_days=7)
    _, outputs = await step(MENU, Event("button", 6, name="nav:talk"), kept)
    assert "soit effacé, 7 jours après sa fin." in shown(outputs[-1])
    assert "is deleted, 7 days after it ends." in shown(outputs[-1], EN)
    one = SurvivorFlow(DIRECTORY, Hours.parse("mon-sun 00:00-24:00"), history_days=1)
    _, outputs = await step(MENU, Event("button", 6, name="nav:talk"), one)
    assert "soit effacé, 1 jour après sa fin." in shown(outputs[-1])


# --- no over-promise, and not assuming a woman (point 6) ---------------------------------------


async def test_what_happens_at_a_centre_promises_nothing_a_centre_may_not_keep() -> None:
    _, outputs = await step(MENU, Event("button", 7, name="nav:about"))
    text = shown(outputs[0])
    assert "n'est pas de votre faute" in text
    assert "En principe, la prise en charge y est gratuite : demandez d'abord" in text
    assert "si possible dans les 3 jours" in text
    assert "Même plus tard, allez-y." in text
    assert "Vous avez le droit de recevoir des soins sans porter plainte." in text
    assert not re.search(r"confidenti|72 heures|jamais besoin", text)


# Agreements that make the reader a woman ("personne survivante" says nothing of her sex).
FEMININE_ONLY = re.compile(r"\b(écoutée|soutenue|seule|connectée|prête|sûre)\b")


def test_french_survivor_screens_do_not_assume_a_woman() -> None:
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    assumed = [
        m.string
        for m in catalog
        if m.id
        and any(f in SURVIVOR_SOURCES for f, _ in m.locations)
        and FEMININE_ONLY.search(str(m.string))
    ]
    assert assumed == []


# --- out of the app (points 3 and 7) ------------------------------------------------------------


@pytest.mark.parametrize("msg", [service.STILL_WAITING, service.CLOSED_BY_STAFF])
@pytest.mark.parametrize("language", ["fr", "en", "bm"])
def test_notes_that_may_arrive_out_of_the_app_give_nothing_away(msg: object, language: str) -> None:
    text = CATALOGS.translator(language).render(msg)  # type: ignore[arg-type]
    assert not [word for word in REVEALING if word in text.lower()], text


def test_a_blocked_person_is_told_the_truth_in_neutral_words() -> None:
    text = FR.render(service.PAUSED)
    assert "a suspendu pour un temps les conversations depuis ce compte" in text
    assert "plusieurs fois" not in text
    assert not [word for word in REVEALING if word in text.lower() and word != "écoute"]


# --- the directory (point 12) -------------------------------------------------------------------


def entries(latitude: float, longitude: float, flow: SurvivorFlow = OPEN) -> list[str]:
    screen = referral.nearest_screen(
        flow.directory, latitude, longitude, None, shared=referral.FREE_NUMBERS,
        entry=referral.centre_entry, map_prefix="",
    )  # fmt: skip
    return shown(screen).split("\n\n")[1:]


def test_centres_sharing_a_town_centre_say_the_town_not_a_distance() -> None:
    for entry in entries(12.60915, -7.97522):
        first = entry.split("\n")[0]
        assert first.endswith("à Bamako (lieu exact pas encore connu)"), first
        assert " km" not in first


def test_the_source_date_is_shown_never_a_research_date_nor_confirmed() -> None:
    commune_1 = next(e for e in entries(12.60915, -7.97522) if "Commune I," in e)
    assert commune_1.endswith(
        "Signalé ouvert en juillet 2021 · pas encore confirmé par un appel ou une visite"
    )
    every = "\n".join(entries(12.6, -8.0) + entries(14.5, -4.2) + entries(16.3, 0.0))
    assert "2026" not in every
    assert "confirmé" not in every.replace("pas encore confirmé", "")


def test_a_centre_known_only_from_an_old_source_comes_after_recent_ones() -> None:
    konna = next(p for p in DIRECTORY.places if p.name == "Konna")
    listed = entries(konna.latitude, konna.longitude)
    assert "Konna" in listed[-1].split("\n")[0]  # the nearest, yet listed last
    assert "une source ancienne : le centre a pu fermer depuis" in listed[-1]


def test_a_call_confirms_a_centre_and_its_uncertainty_goes() -> None:
    konna = next(c for c in DIRECTORY.centres if c.id == "konna")
    called = replace(konna, verified_by="phone", last_verified=date(2026, 12, 1))
    assert not referral.old_source(called)
    text = FR.render(referral.centre_details(called))
    assert text.endswith(
        "Signalé ouvert en décembre 2015 · vérifié par téléphone le 1 décembre 2026"
    )


def test_numbers_give_their_source_date_and_not_yet_confirmed() -> None:
    lines = {n.id: FR.render(referral.number_details(n)) for n in DIRECTORY.numbers}
    assert lines["vbg-80001132"].endswith("source de mars 2014 · pas encore confirmé par téléphone")
    assert "source non datée" in lines["police-80001115"]


# --- the content check's rules (Done means) -----------------------------------------------------


def test_the_shipped_content_and_catalogs_pass_the_new_rules() -> None:
    report = check(CONTENT_DIR, date(2026, 12, 7))
    assert report.errors == []


def test_a_survivor_text_claiming_nothing_is_stored_fails_the_check(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo"))
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    kept = "Ce qui est gardé : vos messages sont copiés dans ce groupe"
    assert kept in text
    po.write_text(text.replace(kept, "Rien n'est conservé : vos messages sont copiés"), "utf-8")
    errors = check(CONTENT_DIR, date(2026, 12, 7), locales_dir=locales).errors
    assert [e for e in errors if e.startswith("locales/fr/") and "claims nothing is stored" in e]
    for claim in ("The bot itself keeps none of them.", "Le bot lui-même n'en garde aucun.",
                  "Nothing is stored.", "Vos messages ne sont pas conservés."):  # fmt: skip
        assert claims_not_stored(claim), claim


def test_a_protocol_without_a_mandatory_step_fails_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(CONTENT_DIR / "protocols", folder)
    path = folder / "evidence.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('id = "no-virginity-test"', 'id = "virginity"'), "utf-8")
    errors = read_protocols(folder, date(2026, 12, 7)).errors
    assert "protocols/evidence.toml: mandatory step 'no-virginity-test' is missing" in errors[0]
    shipped = {
        p.id: {i.id for i in p.items} for p in read_protocols(today=date(2026, 12, 7)).protocols
    }
    for protocol, steps in MANDATORY.items():
        assert set(steps) <= shipped[protocol], protocol


def test_the_decision_aid_cannot_reach_a_link_without_the_sexual_violence_question() -> None:
    assert decision.check() == []
    assert decision.QUESTIONS[decision.SEXUAL].kind == "sexual"
    assert all(decision.verdict(p) != "link" for p in decision.paths() if p[0] != "yes")

    def careless(answers: object) -> decision.Verdict:  # any yes is a link
        return "link" if "yes" in answers else "vbg"  # type: ignore[operator]

    problems = decision.check(careless)
    assert problems
    assert "without a yes to the sexual-violence question" in problems[0]
