"""The directory of centres, phone lines and towns, read from the CSV files in content/.

Channel-free: nothing here knows about Telegram.
"""

from bot.content.check import CheckReport, check, format_report, main_check
from bot.content.directory import CONTENT_DIR, ContentError, Directory, load_directory
from bot.content.models import REGION_CAPITALS, SERVICES, STATUSES, Centre, Number, Place
from bot.content.places import PlaceMatch, PlaceSearch, fold

__all__ = [
    "CONTENT_DIR",
    "REGION_CAPITALS",
    "SERVICES",
    "STATUSES",
    "Centre",
    "CheckReport",
    "ContentError",
    "Directory",
    "Number",
    "Place",
    "PlaceMatch",
    "PlaceSearch",
    "check",
    "fold",
    "format_report",
    "load_directory",
    "main_check",
]
