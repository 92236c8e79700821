"""Settings: validated at start, every error naming the setting at fault."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_URL, ConfigError, load_settings
from bot.keys import Keys, SealError, load_or_create_secret
from tests.conftest import SECRET

TOKEN = "123456:" + "A" * 35
OTHER_SECRET = "B_ROIys8GVr6oJZOGKdDt4EsTVp9MioaQyuIVdH1nyE"


def test_defaults_with_only_a_token() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.api_url == DEFAULT_API_URL
    assert settings.file_url == "https://api.telegram.org/file/bot"
    assert settings.db_path.parent.name == "state"
    assert settings.admin_ids == frozenset()
    assert settings.hotline_chat_id is None
    assert settings.secret_path.parent != settings.db_path.parent


def test_missing_token_says_how_to_get_one_and_how_to_try_the_demo() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN") as info:
        load_settings({})
    assert "BotFather" in str(info.value)
    assert "python -m bot demo" in str(info.value)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"TELEGRAM_BOT_TOKEN": "nonsense"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"HOTLINE_CHAT_ID": "12345"}, "HOTLINE_CHAT_ID"),
        ({"BOT_ADMIN_IDS": "1,two"}, "BOT_ADMIN_IDS"),
        ({"BOT_SECRET": "short"}, "BOT_SECRET"),
        ({"BOT_SECRET": "s" * 40}, "BOT_SECRET"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError, match=setting):
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **env})


def test_all_settings_parse() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
            "BOT_DB_PATH": "/tmp/x/j.sqlite3",
            "HOTLINE_CHAT_ID": "-1001234567890",
            "BOT_ADMIN_IDS": " 11, 22 ,",
            "BOT_SECRET": SECRET,
        }
    )
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.db_path == Path("/tmp/x/j.sqlite3")
    assert settings.hotline_chat_id == -1001234567890
    assert settings.admin_ids == frozenset({11, 22})
    assert settings.secret == SECRET


def test_toml_file_with_environment_overriding(tmp_path: Path) -> None:
    path = tmp_path / "jigiya.toml"
    path.write_text(f'TELEGRAM_BOT_TOKEN = "{TOKEN}"\nBOT_ADMIN_IDS = "5"\n', encoding="utf-8")
    settings = load_settings({"JIGIYA_CONFIG": str(path), "BOT_ADMIN_IDS": "6"})
    assert settings.token == TOKEN
    assert settings.admin_ids == frozenset({6})


def test_toml_file_with_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jigiya.toml"
    path.write_text('TELEGRAM_TOKEN = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN"):
        load_settings({"JIGIYA_CONFIG": str(path)})


def test_secret_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret.key"
    first = load_or_create_secret(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(None, path) == first
    assert load_or_create_secret(SECRET, path) == SECRET


def test_keys_hash_and_seal() -> None:
    keys, other = Keys(SECRET), Keys(OTHER_SECRET)
    assert keys.pseudonym("person", 1, 42) == keys.pseudonym("person", 1, 42)
    assert keys.pseudonym("person", 1, 42) != other.pseudonym("person", 1, 42)
    assert keys.pseudonym("person", 1, 42) != keys.pseudonym("person", 1, 43)
    sealed = keys.seal(b"hello Awa", context=b"inbox:1")
    assert b"Awa" not in sealed
    assert keys.open(sealed, context=b"inbox:1") == b"hello Awa"
    with pytest.raises(SealError):
        keys.open(sealed, context=b"inbox:2")
    with pytest.raises(SealError):
        other.open(sealed, context=b"inbox:1")
    assert SECRET[:10] not in repr(keys)
