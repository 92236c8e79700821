"""The Bot API's structure, and a check that a Bot API call conforms to it.

`tests/botapi_schema.json` is a compact copy of the structural facts of the published Bot API
schema: method names with their parameters and return types, object types with their fields or
their subtypes; each parameter or field as its types joined by " | ", with "?" when optional.
No descriptions. Its source is `api.json` of the telegram-bot-api-spec project (PaulSonOfLars,
https://github.com/PaulSonOfLars/telegram-bot-api-spec, commit 160fd99), generated from
https://core.telegram.org/bots/api; MIT licence, whose text the JSON file carries. For a new
Bot API version, regenerate it and run the tests:

    .venv/bin/python -m tests.botapi_schema ../shared/reference/telegram-bot-api-10.1.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulator import ApiCall
from bot.emulator.wire import Upload

Json = dict[str, Any]

SCHEMA = Path(__file__).with_name("botapi_schema.json")
SOURCE = "https://github.com/PaulSonOfLars/telegram-bot-api-spec (api.json, commit 160fd99)"
FORMAT = 'each parameter or field: its types joined by " | ", with "?" appended when optional'


# --- the compact copy ----------------------------------------------------------------------


def _specs(fields: list[Json]) -> dict[str, str]:
    return {f["name"]: " | ".join(f["types"]) + ("" if f["required"] else "?") for f in fields}


def compact(api: Json, licence: str) -> Json:
    """The structural facts of the spec's api.json, descriptions left out."""
    return {
        "version": api["version"],
        "source": SOURCE,
        "licence": licence,
        "format": FORMAT,
        "methods": {
            m["name"]: {"params": _specs(m.get("fields", [])), "returns": " | ".join(m["returns"])}
            for m in api["methods"].values()
        },
        "types": {
            t["name"]: {"subtypes": t["subtypes"]}
            if "subtypes" in t
            else {"fields": _specs(t.get("fields", []))}
            for t in api["types"].values()
        },
    }


def main(source: str) -> None:
    path = Path(source)
    licence = path.with_suffix(".LICENSE").read_text(encoding="utf-8")
    data = compact(json.loads(path.read_text(encoding="utf-8")), licence)
    SCHEMA.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    types: tuple[str, ...]
    required: bool

    @classmethod
    def parse(cls, text: str) -> Spec:
        return cls(tuple(text.removesuffix("?").split(" | ")), not text.endswith("?"))


def _primitive(value: Any, kind: str) -> bool | None:
    """Whether value is of a primitive type; None when kind is not one."""
    integer = isinstance(value, int) and not isinstance(value, bool)
    return {
        "Integer": integer,
        "Float": integer or isinstance(value, float),
        "String": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "True": value is True,
        "InputFile": isinstance(value, Upload),
    }.get(kind)


class Schema:
    def __init__(self, data: Json):
        self.version: str = data["version"]
        self.params = {
            name: {p: Spec.parse(s) for p, s in m["params"].items()}
            for name, m in data["methods"].items()
        }
        self.returns = {name: Spec.parse(m["returns"]) for name, m in data["methods"].items()}
        self.fields = {
            name: {f: Spec.parse(s) for f, s in t["fields"].items()}
            for name, t in data["types"].items()
            if "fields" in t
        }
        self.subtypes: dict[str, list[str]] = {
            name: t["subtypes"] for name, t in data["types"].items() if "subtypes" in t
        }

    @classmethod
    def load(cls) -> Schema:
        return cls(json.loads(SCHEMA.read_text(encoding="utf-8")))

    def call_problems(self, call: ApiCall) -> list[str]:
        """What in a finished call (the request, then the answer) the schema does not allow."""
        where = f"#{call.seq} {call.method}"
        if call.method not in self.params:
            return [f"{where}: no such method"]
        problems = self.object_problems(call.params, self.params[call.method], f"{where} request")
        if call.error is not None:
            body = call.error.body()
            parameters = self.fields["ResponseParameters"]
            problems += self.object_problems(
                body.get("parameters", {}), parameters, f"{where} error"
            )
        elif call.finished is not None:
            returns = self.returns[call.method]
            problems += self.value_problems(call.result, returns.types, f"{where} result")
        return problems

    def object_problems(self, value: Any, fields: dict[str, Spec], where: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: an object expected, got {value!r:.80}"]
        problems = [f"{where}: unknown {name!r}" for name in value if name not in fields]
        for name, spec in fields.items():
            if name in value:
                problems += self.value_problems(value[name], spec.types, f"{where}.{name}")
            elif spec.required:
                problems.append(f"{where}: {name!r} missing")
        return problems

    def value_problems(self, value: Any, types: tuple[str, ...], where: str) -> list[str]:
        """No problem if value is of one of types; else the problems of the nearest one."""
        found = [self._type_problems(value, kind, where) for kind in types]
        return [] if [] in found else min(found, key=len)

    def _type_problems(self, value: Any, kind: str, where: str) -> list[str]:
        primitive = _primitive(value, kind)
        if primitive is not None:
            return [] if primitive else [f"{where}: a {kind} expected, got {value!r:.80}"]
        if kind.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: an array expected, got {value!r:.80}"]
            inner = (kind.removeprefix("Array of "),)
            problems = []
            for i, item in enumerate(value):
                problems += self.value_problems(item, inner, f"{where}[{i}]")
            return problems
        if kind in self.subtypes:
            return self.value_problems(value, tuple(self.subtypes[kind]), f"{where}<{kind}>")
        if kind in self.fields:
            return self.object_problems(value, self.fields[kind], where)
        return [f"{where}: the schema has no type {kind!r}"]


if __name__ == "__main__":
    main(*sys.argv[1:])
