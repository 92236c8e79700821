"""Settings from environment variables (and optionally a TOML file), validated at start.

Environment variables win over the file, so a deployment can keep defaults in a file and secrets
in the environment. Every error names the setting at fault.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.hotline.hours import Hours, HoursError
from bot.languages import CODES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "state" / "jigiya.sqlite3"
DEFAULT_API_URL = "https://api.telegram.org/bot"

# The shape BotFather gives: digits, a colon, then 30+ url-safe characters.
_TOKEN_RE = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{30,100}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{32,256}$")
# Fewer different characters than this is a typed or patterned secret, not a random one.
_SECRET_MIN_DISTINCT = 16
SECRET_NAME = "bot_secret"  # noqa: S105 - the systemd credential's and Docker secret's name
DOCKER_SECRETS = Path("/run/secrets")

SETTINGS_FILE_ENV = "JIGIYA_CONFIG"
DEFAULT_HOURS = "mon-fri 08:00-17:00"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Settings:
    token: str | None
    api_url: str = DEFAULT_API_URL
    db_path: Path = DEFAULT_DB_PATH
    hotline_chat_id: int | None = None
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    secret: str | None = field(default=None, repr=False)
    # Where the secret is generated on first start when none is configured, or the file it was
    # read from: never beside the database, so that a copy of the data is not a copy of the key.
    secret_path: Path = field(default_factory=lambda: user_secret_path(os.environ))
    # Staff groups by language; a language not listed goes to hotline_chat_id.
    hotline_chat_ids: Mapping[str, int] = field(default_factory=dict)
    hotline_hours: Hours = field(default_factory=lambda: Hours.parse(DEFAULT_HOURS))
    reminder_minutes: int = 15
    case_retention_days: int = 90
    # A person idle this long is forgotten whole (language, state, message ids).
    person_retention_days: int = 30
    # Case topics (her relayed messages) are deleted from the staff group this long after closing.
    staff_history_days: int = 30

    def staff_chat_for(self, language: str) -> int | None:
        return self.hotline_chat_ids.get(language, self.hotline_chat_id)

    @property
    def staff_chats(self) -> frozenset[int]:
        chats = set(self.hotline_chat_ids.values())
        if self.hotline_chat_id is not None:
            chats.add(self.hotline_chat_id)
        return frozenset(chats)

    @property
    def file_url(self) -> str:
        """Base URL for file downloads, beside the API URL as Telegram and local servers lay it."""
        if self.api_url.endswith("/bot"):
            return self.api_url[: -len("bot")] + "file/bot"
        return self.api_url


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    allow_missing_token: bool = False,
    docker_secrets: Path = DOCKER_SECRETS,
) -> Settings:
    """Read and validate settings; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env
    values = _read_file(env.get(SETTINGS_FILE_ENV))
    values.update({k: v for k, v in env.items() if k in _KNOWN and v != ""})

    token = values.get("TELEGRAM_BOT_TOKEN")
    if token is None:
        if not allow_missing_token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram "
                "(/newbot), then run: TELEGRAM_BOT_TOKEN=<token> python -m bot run. "
                "To try Jigiya without a token: python -m bot demo"
            )
    elif not _TOKEN_RE.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456:ABC..., "
            "as given by @BotFather)"
        )

    api_url = values.get("TELEGRAM_API_URL", DEFAULT_API_URL)
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        raise ConfigError(
            "TELEGRAM_API_URL must be an http(s) URL such as https://api.telegram.org/bot"
        )

    db_path = Path(values.get("BOT_DB_PATH", str(DEFAULT_DB_PATH))).expanduser()
    secret, secret_path = _secret(values, env, db_path, docker_secrets)

    try:
        hours = Hours.parse(values.get("HOTLINE_HOURS", DEFAULT_HOURS))
    except HoursError as exc:
        raise ConfigError(f"HOTLINE_HOURS: {exc}") from None

    retention = _whole("CASE_RETENTION_DAYS", values, 90, 1, 3650)
    staff_history = _whole("STAFF_HISTORY_DAYS", values, min(30, retention), 1, 3650)
    if staff_history > retention:
        raise ConfigError(
            "STAFF_HISTORY_DAYS must not exceed CASE_RETENTION_DAYS: a case topic is deleted "
            "while its case is still known"
        )

    return Settings(
        token=token,
        api_url=api_url,
        db_path=db_path,
        hotline_chat_id=_chat_id("HOTLINE_CHAT_ID", values.get("HOTLINE_CHAT_ID")),
        admin_ids=_admin_ids(values.get("BOT_ADMIN_IDS")),
        secret=secret,
        secret_path=secret_path,
        hotline_chat_ids=_chats_by_language(values.get("HOTLINE_CHAT_IDS")),
        hotline_hours=hours,
        reminder_minutes=_whole("HOTLINE_REMINDER_MINUTES", values, 15, 1, 24 * 60),
        case_retention_days=retention,
        person_retention_days=_whole("PERSON_RETENTION_DAYS", values, 30, 1, 3650),
        staff_history_days=staff_history,
    )


_KNOWN = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "BOT_DB_PATH",
    "HOTLINE_CHAT_ID",
    "HOTLINE_CHAT_IDS",
    "HOTLINE_HOURS",
    "HOTLINE_REMINDER_MINUTES",
    "CASE_RETENTION_DAYS",
    "PERSON_RETENTION_DAYS",
    "STAFF_HISTORY_DAYS",
    "BOT_ADMIN_IDS",
    "BOT_SECRET",
    "BOT_SECRET_FILE",
)


def user_secret_path(env: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/jigiya/secret.key, by default ~/.config/jigiya/secret.key."""
    config_home = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config_home):  # the XDG specification ignores a relative one
        home = env.get("HOME")
        config_home = str((Path(home) if home else Path.home()) / ".config")
    return Path(config_home) / "jigiya" / "secret.key"


def check_secret(secret: str, where: str) -> str:
    """The secret if it has the shape and variety of a random one; `where` names its source."""
    make = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if not _SECRET_RE.match(secret):
        raise ConfigError(
            f"{where} must be 32 to 256 characters of A-Z, a-z, 0-9, '_' or '-'; {make}"
        )
    if len(set(secret)) < _SECRET_MIN_DISTINCT:
        raise ConfigError(
            f"{where} is too weak: it needs at least {_SECRET_MIN_DISTINCT} different "
            f"characters; {make}"
        )
    return secret


def read_secret_file(path: Path, where: str, *, check_mode: bool = True) -> str:
    """The secret kept in `path`, refused when other users may read or change the file.

    `where` names the source in messages; no message ever holds the file's content.
    """
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ConfigError(f"{where}: {path} is not a file")
            if check_mode and mode & 0o077:
                raise ConfigError(
                    f"{where}: {path} can be read or changed by other users "
                    f"(mode {stat.S_IMODE(mode):04o}); keep it the owner's alone: chmod 600 {path}"
                )
            raw = fh.read(4096)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""  # refused just below, without echoing any of it
    return check_secret(text, f"BOT_SECRET in {path}")


def _secret(
    values: Mapping[str, str], env: Mapping[str, str], db_path: Path, docker_secrets: Path
) -> tuple[str | None, Path]:
    """The configured secret and its file, or (None, where to generate one); refused while a key
    file sits beside the database."""
    secret, path = _configured_secret(values, env, docker_secrets)
    old = db_path.parent / "secret.key"
    if old.exists():
        # Earlier versions kept the key here. Starting with another key (a new one, or one made
        # for the upgrade) would leave the stored data unreadable, and this one exposed.
        if secret is None and not path.exists():
            fix = (
                f"move it out of the data folder: mkdir -p -m 700 {path.parent} && mv {old} {path}"
            )
        else:
            where = "the configured secret" if secret is not None else str(path)
            fix = f"make sure {where} is the key the data was stored with, then delete {old}"
        raise ConfigError(
            f"BOT_SECRET: the key {old} is beside the database, so anyone with the data folder "
            f"or a backup of it has the key too. To start, {fix} (or put the key elsewhere and "
            "set BOT_SECRET_FILE to its path). Backups of the data must not include the key"
        )
    return secret, path


def _configured_secret(
    values: Mapping[str, str], env: Mapping[str, str], docker_secrets: Path
) -> tuple[str | None, Path]:
    """The first of BOT_SECRET, BOT_SECRET_FILE, the systemd credential and the Docker secret,
    with its file; else (None, the per-user key file, to be generated on first start)."""
    if (secret := values.get("BOT_SECRET")) is not None:
        return check_secret(secret, "BOT_SECRET"), user_secret_path(env)
    if (configured := values.get("BOT_SECRET_FILE")) is not None:
        path = Path(configured).expanduser()
        return read_secret_file(path, "BOT_SECRET_FILE"), path
    if credentials := env.get("CREDENTIALS_DIRECTORY"):
        path = Path(credentials) / SECRET_NAME
        if path.exists():
            # systemd grants the service's user read access with an ACL, which shows as group
            # bits; the credentials directory is readable by that user (and root) only.
            return read_secret_file(path, "systemd credential", check_mode=False), path
    if (path := docker_secrets / SECRET_NAME).exists():
        return read_secret_file(path, "Docker secret"), path
    return None, user_secret_path(env)


def _read_file(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{SETTINGS_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{SETTINGS_FILE_ENV}: {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_KNOWN))
    if unknown:
        raise ConfigError(
            f"{SETTINGS_FILE_ENV}: unknown setting(s) in {path}: {', '.join(unknown)}"
        )
    return {key: str(value) for key, value in data.items()}


def _chat_id(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"-100\d{5,15}", raw.strip()):
        raise ConfigError(
            f"{name} must be the id of a supergroup, which starts with -100 "
            "(for example -1001234567890)"
        )
    return int(raw)


def _chats_by_language(raw: str | None) -> dict[str, int]:
    chats: dict[str, int] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        language, sep, chat = part.strip().partition(":")
        if not sep or language not in CODES:
            raise ConfigError(
                "HOTLINE_CHAT_IDS must look like fr:-100123...,bm:-100456... "
                f"(languages {', '.join(CODES)})"
            )
        chats[language] = _chat_id("HOTLINE_CHAT_IDS", chat) or 0
    return chats


def _whole(name: str, values: Mapping[str, str], default: int, low: int, high: int) -> int:
    raw = values.get(name)
    if raw is None:
        return default
    if not raw.strip().isdecimal() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _admin_ids(raw: str | None) -> frozenset[int]:
    if raw is None:
        return frozenset()
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdecimal():
            raise ConfigError(
                f"BOT_ADMIN_IDS must be comma-separated numeric Telegram user ids; {part!r} is not"
            )
        ids.add(int(part))
    return frozenset(ids)
