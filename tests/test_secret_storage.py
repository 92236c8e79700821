"""Where BOT_SECRET comes from, and why it never sits beside the data it protects.

Whoever gets the data folder (or a backup of it) must not get the key too. The sources, in order:
BOT_SECRET, BOT_SECRET_FILE, a systemd credential, a Docker secret, then a key generated in the
user's config folder. Files must be the owner's alone, and a weak secret is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import ConfigError, Settings, load_settings
from bot.keys import load_or_create_secret
from tests.conftest import SECRET

TOKEN = "123456:" + "A" * 35
OTHER = "Yk3-Vd8_Rf1Nw6Qs0Lb4Zh7Tg2Jx5Mc9Pa3Ue8Wo1Ki6Dn"


@pytest.fixture
def docker(tmp_path: Path) -> Path:
    """Stands for /run/secrets: empty unless a test puts a secret there."""
    path = tmp_path / "run-secrets"
    path.mkdir()
    return path


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "BOT_DB_PATH": str(tmp_path / "data" / "jigiya.sqlite3"),
        "HOME": str(tmp_path / "home"),
        **extra,
    }


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="ascii")
    path.chmod(mode)
    return path


def settings(env: dict[str, str], docker: Path) -> Settings:
    return load_settings(env, docker_secrets=docker)


# --- the per-user default ------------------------------------------------------------------------


def test_the_key_is_generated_in_the_user_config_folder_not_beside_the_data(
    tmp_path: Path, docker: Path
) -> None:
    config = tmp_path / "config"
    loaded = settings(env_for(tmp_path, XDG_CONFIG_HOME=str(config)), docker)
    assert loaded.secret is None
    assert loaded.secret_path == config / "jigiya" / "secret.key"

    first = load_or_create_secret(loaded.secret, loaded.secret_path)
    assert stat.S_IMODE(loaded.secret_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(loaded.secret_path.parent.stat().st_mode) == 0o700
    assert load_or_create_secret(loaded.secret, loaded.secret_path) == first
    assert not (tmp_path / "data").exists()


def test_without_xdg_config_home_the_key_goes_to_dot_config(tmp_path: Path, docker: Path) -> None:
    expected = tmp_path / "home" / ".config" / "jigiya" / "secret.key"
    assert settings(env_for(tmp_path), docker).secret_path == expected
    # The XDG specification says a relative XDG_CONFIG_HOME is ignored.
    relative = env_for(tmp_path, XDG_CONFIG_HOME="relative/config")
    assert settings(relative, docker).secret_path == expected


def test_a_generated_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "config" / "jigiya" / "secret.key", SECRET, 0o644)
    with pytest.raises(ConfigError) as info:
        load_or_create_secret(None, path)
    assert str(path) in str(info.value)
    assert "chmod 600" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_weak_generated_key_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.key", "s" * 40)
    with pytest.raises(ConfigError, match="BOT_SECRET") as info:
        load_or_create_secret(None, path)
    assert "s" * 40 not in str(info.value)


# --- the explicit sources, in order --------------------------------------------------------------


def test_bot_secret_file_is_read_and_never_created(tmp_path: Path, docker: Path) -> None:
    path = write(tmp_path / "etc" / "bot_secret", SECRET)
    loaded = settings(env_for(tmp_path, BOT_SECRET_FILE=str(path)), docker)
    assert loaded.secret == SECRET
    assert load_or_create_secret(loaded.secret, loaded.secret_path) == SECRET

    missing = tmp_path / "etc" / "missing"
    with pytest.raises(ConfigError, match="BOT_SECRET_FILE") as info:
        settings(env_for(tmp_path, BOT_SECRET_FILE=str(missing)), docker)
    assert str(missing) in str(info.value)
    assert not missing.exists()


def test_bot_secret_file_may_come_from_the_toml_file(tmp_path: Path, docker: Path) -> None:
    path = write(tmp_path / "etc" / "bot_secret", SECRET)
    toml = tmp_path / "jigiya.toml"
    toml.write_text(f'BOT_SECRET_FILE = "{path}"\n', encoding="utf-8")
    assert settings(env_for(tmp_path, JIGIYA_CONFIG=str(toml)), docker).secret == SECRET


def test_a_systemd_credential_is_read_as_systemd_leaves_it(tmp_path: Path, docker: Path) -> None:
    credentials = tmp_path / "credentials"
    # systemd writes a credential 0400 and grants the service's user read access through an ACL,
    # whose mask shows as the group bits: 0440 is how a real credential looks.
    write(credentials / "bot_secret", SECRET, 0o440)
    env = env_for(tmp_path, CREDENTIALS_DIRECTORY=str(credentials))
    assert settings(env, docker).secret == SECRET


def test_a_credentials_directory_without_bot_secret_falls_through(
    tmp_path: Path, docker: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    env = env_for(tmp_path, CREDENTIALS_DIRECTORY=str(credentials))
    loaded = settings(env, docker)
    assert loaded.secret is None
    assert not (credentials / "bot_secret").exists()


def test_a_docker_secret_is_read(tmp_path: Path, docker: Path) -> None:
    write(docker / "bot_secret", SECRET, 0o400)
    assert settings(env_for(tmp_path), docker).secret == SECRET


def test_the_sources_are_tried_in_order(tmp_path: Path, docker: Path) -> None:
    secrets = {name: f"{name}-{OTHER}"[:48] for name in ("file", "credential", "docker")}
    secret_file = write(tmp_path / "etc" / "bot_secret", secrets["file"])
    write(tmp_path / "credentials" / "bot_secret", secrets["credential"], 0o400)
    write(docker / "bot_secret", secrets["docker"], 0o400)
    env = env_for(
        tmp_path,
        BOT_SECRET=SECRET,
        BOT_SECRET_FILE=str(secret_file),
        CREDENTIALS_DIRECTORY=str(tmp_path / "credentials"),
    )
    assert settings(env, docker).secret == SECRET
    del env["BOT_SECRET"]
    assert settings(env, docker).secret == secrets["file"]
    del env["BOT_SECRET_FILE"]
    assert settings(env, docker).secret == secrets["credential"]
    del env["CREDENTIALS_DIRECTORY"]
    assert settings(env, docker).secret == secrets["docker"]
    (docker / "bot_secret").unlink()
    assert settings(env, docker).secret is None


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666])
def test_a_secret_file_others_can_read_or_change_is_refused(
    tmp_path: Path, docker: Path, mode: int
) -> None:
    path = write(tmp_path / "etc" / "bot_secret", SECRET, mode)
    with pytest.raises(ConfigError, match="BOT_SECRET_FILE") as info:
        settings(env_for(tmp_path, BOT_SECRET_FILE=str(path)), docker)
    assert str(path) in str(info.value)
    assert "chmod 600" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_docker_secret_others_can_read_is_refused(tmp_path: Path, docker: Path) -> None:
    write(docker / "bot_secret", SECRET, 0o444)  # Docker's default mode for a secret
    with pytest.raises(ConfigError, match="chmod 600"):
        settings(env_for(tmp_path), docker)


# --- an old key beside the database --------------------------------------------------------------


def test_an_old_key_beside_the_database_stops_the_start(tmp_path: Path, docker: Path) -> None:
    old = write(tmp_path / "data" / "secret.key", SECRET)
    config = tmp_path / "config"
    with pytest.raises(ConfigError) as info:
        settings(env_for(tmp_path, XDG_CONFIG_HOME=str(config)), docker)
    message = str(info.value)
    assert f"mv {old} {config / 'jigiya' / 'secret.key'}" in message
    assert "BOT_SECRET_FILE" in message
    assert "backup" in message
    assert SECRET not in message
    assert not config.exists()  # no new key: it would leave the stored data unreadable
    assert old.read_text(encoding="ascii").strip() == SECRET


def test_an_old_key_beside_the_database_stops_the_start_even_with_a_configured_secret(
    tmp_path: Path, docker: Path
) -> None:
    # An upgrade that made a new key instead of moving the old one would start unable to read
    # the stored data, with the old key still in the data folder and its backups.
    old = write(tmp_path / "data" / "secret.key", OTHER)
    with pytest.raises(ConfigError) as info:
        settings(env_for(tmp_path, BOT_SECRET=SECRET), docker)
    message = str(info.value)
    assert "make sure the configured secret is the key the data was stored with" in message
    assert f"then delete {old}" in message
    assert "backup" in message
    assert SECRET not in message
    assert OTHER not in message


def test_an_old_key_beside_the_database_and_one_in_the_config_folder(
    tmp_path: Path, docker: Path
) -> None:
    old = write(tmp_path / "data" / "secret.key", SECRET)
    new = write(tmp_path / "config" / "jigiya" / "secret.key", SECRET)
    with pytest.raises(ConfigError) as info:
        settings(env_for(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "config")), docker)
    assert f"make sure {new} is the key the data was stored with, then delete {old}" in str(
        info.value
    )


# --- weak secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["s" * 40, "ab" * 20, "0123456789abcde" * 3])
def test_a_weak_bot_secret_is_refused(tmp_path: Path, docker: Path, weak: str) -> None:
    with pytest.raises(ConfigError, match="BOT_SECRET") as info:
        settings(env_for(tmp_path, BOT_SECRET=weak), docker)
    assert weak not in str(info.value)


@pytest.mark.parametrize("weak", ["s" * 40, "0123456789abcde" * 3])
def test_a_weak_secret_in_a_file_is_refused(tmp_path: Path, docker: Path, weak: str) -> None:
    path = write(tmp_path / "etc" / "bot_secret", weak)
    with pytest.raises(ConfigError, match="BOT_SECRET") as info:
        settings(env_for(tmp_path, BOT_SECRET_FILE=str(path)), docker)
    assert weak not in str(info.value)


def test_sixteen_different_characters_are_enough(tmp_path: Path, docker: Path) -> None:
    secret = "0123456789abcdef" * 2
    assert settings(env_for(tmp_path, BOT_SECRET=secret), docker).secret == secret


def test_the_secret_is_not_in_the_settings_repr(tmp_path: Path, docker: Path) -> None:
    assert SECRET not in repr(settings(env_for(tmp_path, BOT_SECRET=SECRET), docker))


# --- umask ---------------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("umask", "production_logging")
def test_the_command_line_makes_new_files_the_owners_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "JIGIYA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run"]) == 2  # stops at the missing token, after setting the umask
    assert os.umask(0o022) == 0o077
