"""The playground in a real browser: Debian's chromium, headless, driven by Playwright (never a
browser of its own). A survivor finds the nearest centre by tapping a town on the map, an officer
ticks a checklist step, a case is handed to staff who answer; then a guided scenario plays. The
three phones are saved as screenshots in test-artifacts/playground/ (not in git).

Skipped on a machine without chromium (CI installs it: see .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.playground.server import Playground

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "playground"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 15_000  # generous for a loaded machine: only a failure waits it out

if not CHROMIUM.exists():
    # CI must not skip it silently: .ci/run installs chromium before make test.
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run should have installed chromium")
    pytest.skip(
        f"no {CHROMIUM} (apt-get install chromium) for the browser test", allow_module_level=True
    )

from playwright.async_api import Locator, Page, async_playwright, expect  # noqa: E402


@pytest.fixture
async def address() -> AsyncIterator[str]:
    runner = web.AppRunner(Playground().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/"
    await runner.cleanup()


@pytest.fixture
async def page(address: str) -> AsyncIterator[Page]:
    profile = tempfile.mkdtemp(prefix="jigiya-chromium-")
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True,
                viewport={"width": 1200, "height": 760}, locale="fr-FR",
            )  # fmt: skip
            context.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page = context.pages[0] if context.pages else await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(address)
            yield page
            await context.close()
            assert errors == []
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def phone(page: Page, name: str) -> Locator:
    return page.locator(f'.phone[data-phone="{name}"]')


async def type_in(page: Page, name: str, text: str) -> None:
    await phone(page, name).locator(".compose input").fill(text)
    await phone(page, name).locator(".compose input").press("Enter")


async def shoot(page: Page, prefix: str, *phones: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{prefix}-page.png")
    for name in phones:
        await phone(page, name).screenshot(path=ARTIFACTS / f"{prefix}-{name}.png")


async def test_the_journeys_and_a_scenario_in_a_real_browser(page: Page) -> None:
    """One browser for all of it: starting one takes two seconds."""
    survivor, officer, staff = phone(page, "survivor"), phone(page, "officer"), phone(page, "staff")

    # The survivor: to the nearest centre, sharing her location by tapping Mopti on the map.
    await type_in(page, "survivor", "/start")
    await survivor.get_by_role("button", name="Français").click()
    await survivor.get_by_role("button", name="Centre le plus proche").click()
    await survivor.locator(".keyboard button").click()  # the reply keyboard's location button
    await page.locator('#map circle[data-town="Mopti"]').click()
    await expect(survivor.get_by_text("Centres les plus proches")).to_be_visible()
    await expect(survivor.locator(".pin").first).to_be_visible()  # her shared location, drawn

    # The officer: an invitation, its code, the child protocol, a step ticked.
    await type_in(page, "officer", "/invite police")
    invitation = await officer.get_by_text("Code :").first.text_content() or ""
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", invitation)
    assert code is not None
    await type_in(page, "officer", f"/officer {code.group()}")
    await officer.get_by_role("button", name="Listes de contrôle").click()
    await officer.get_by_role("button", name="Enfant survivant").click()
    await officer.get_by_role("button", name="⬜ 1.").click()
    await expect(officer.get_by_role("button", name="✅ 1.")).to_be_visible()

    # The handover: she agrees, writes; Fatou claims the case in its topic and answers.
    await survivor.get_by_role("button", name="Parler à une personne").last.click()
    await survivor.get_by_role("button", name="J'accepte").click()
    await expect(survivor.get_by_text("Vous êtes en lien")).to_be_visible()
    await type_in(page, "survivor", "Bonjour, j'ai besoin d'aide.")
    await expect(staff.get_by_text("Bonjour, j'ai besoin d'aide.")).to_be_visible()
    await staff.get_by_role("button", name="Prendre").click()
    await expect(staff.get_by_text("Pris par Fatou")).to_be_visible()
    await type_in(page, "staff", "Bonjour, je suis là pour vous écouter.")
    await expect(survivor.get_by_text("Bonjour, je suis là pour vous écouter.")).to_be_visible()
    await shoot(page, "journeys", "survivor", "officer", "staff")

    # A guided scenario, in a new world: the quick exit, step by step with its narration.

    await page.select_option("#scenario", "quick-exit")
    await page.get_by_role("button", name="Commencer", exact=True).click()
    next_step = page.get_by_role("button", name="Suivant")
    for number in range(1, 5):
        await next_step.click()
        await expect(page.locator("#narration")).to_contain_text(f"Étape {number}/4")
    await expect(survivor.get_by_text("Bonne journée.")).to_be_visible()
    await expect(survivor.locator(".msg.deleted").first).to_be_visible()  # the trainer's note
    await expect(survivor.locator(".screen button")).to_have_count(0)  # her screens are gone
    await shoot(page, "quick-exit")

    # On a phone's screen, one phone at a time, with tabs.
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.get_by_role("tab", name="Groupe de la ligne").click()
    await expect(phone(page, "staff")).to_be_visible()
    await expect(survivor).to_be_hidden()
    await page.screenshot(path=ARTIFACTS / "narrow-staff.png")
