"""Render records through any Hugging Face chat template, as ``transformers`` does.

A model's own template is the text it was trained on. ``load_chat_template`` reads one
from a ``.jinja`` file, a ``tokenizer_config.json`` / ``chat_template.json``, or a local
tokenizer folder (``chat_template.jinja``, ``additional_chat_templates/``, the
``chat_template`` key of ``tokenizer_config.json``, and its special tokens), never from
the network. ``render_record`` then renders a record with the inputs that
``tokenizer.apply_chat_template(messages, tools=tools, tokenize=False)`` gives the
template (messages with ``None`` values dropped, reasoning aliased as
``reasoning_content`` and ``thinking``, the special tokens, ``add_generation_prompt``)
in the same sandboxed Jinja environment (:mod:`toolforge.chat_template.env`), so the
text is byte for byte what transformers writes (tested against transformers 5.x).

A template may not be able to express a record: Llama 3.1's refuses parallel calls with
``raise_exception``, others silently leave out a turn's text or calls. Each render is
checked (:mod:`toolforge.chat_template.check`) and comes back with typed issues instead
of an exception or silently wrong text::

    from toolforge.chat_template import load_chat_template, render_record
    tpl = load_chat_template("path/to/tokenizer-folder")
    result = render_record(tpl, record)
    result.ok, result.text, [(i.code, i.path, i.message) for i in result.issues]
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from toolforge.chat_template.check import ERROR_CODES, TemplateIssue, check_render
from toolforge.errors import InputError, UsageError
from toolforge.export.convert import THINK_MODES, chat_messages
from toolforge.io import safejson
from toolforge.record import Record

SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
#: Names a message's reasoning is passed under (transformers fills all of them from the first one set).
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template (one source, or several named ones) plus the special tokens it sees."""

    source: str | dict[str, str]
    special_tokens: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def select(self, *, name: str | None = None, with_tools: bool = False) -> str:
        """The template text to use, chosen as ``tokenizer.get_chat_template`` chooses it."""
        if isinstance(self.source, str):
            if name:
                raise UsageError(f"{self.origin or 'this chat template'} has a single template; --template-name {name!r} does not apply")
            return self.source
        if name:
            if name not in self.source:
                raise UsageError(f"no chat template named {name!r} in {self.origin}",
                                 hint=f"choose one of: {', '.join(sorted(self.source))}")
            return self.source[name]
        if with_tools and "tool_use" in self.source:
            return self.source["tool_use"]
        if "default" in self.source:
            return self.source["default"]
        raise UsageError(f"{self.origin} has several chat templates and none is the default",
                         hint=f"choose one with --template-name: {', '.join(sorted(self.source))}")


@dataclass
class RenderResult:
    id: str | None
    text: str | None
    issues: list[TemplateIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error-level issue: the text says everything the record says."""
        return self.text is not None and not any(i.severity == "error" for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "text": self.text, "issues": [i.to_dict() for i in self.issues]}


# --- loading --------------------------------------------------------------------------------------

def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):  # AddedToken as saved by transformers
        return str(value["content"])
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON object")
    return data


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read chat template {path}: {exc}") from None


def _templates_from_config(value: Any, path: Path) -> str | dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # [{"name": ..., "template": ...}, ...]
        out = {}
        for item in value:
            if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("template"), str)):
                raise InputError(f"{path}: chat_template list entries need 'name' and 'template' strings")
            out[item["name"]] = item["template"]
        return out
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise InputError(f"{path}: chat_template is neither a string nor a list of named templates")


def _special_tokens(config: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in SPECIAL_TOKENS:
        text = _token_text(config.get(key))
        if text is not None:
            out[key] = text
    return out


def load_chat_template(path: str | Path, *, special_tokens: Mapping[str, str] | None = None) -> ChatTemplate:
    """Read a chat template from a ``.jinja`` file, a JSON config, or a local tokenizer folder.

    ``special_tokens`` (``bos_token``, ``eos_token``, ...) override those the folder declares.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"chat template {p} does not exist",
                         hint="give a .jinja file or a local tokenizer folder (toolforge never downloads one)")
    config: dict[str, Any] = {}
    source: str | dict[str, str] | None = None
    if p.is_dir():
        cfg_path = p / "tokenizer_config.json"
        if cfg_path.is_file():
            config = _read_json(cfg_path)
        stm = p / "special_tokens_map.json"
        if stm.is_file():
            config = {**_read_json(stm), **{k: v for k, v in config.items() if v is not None}}
        named: dict[str, str] = {}
        if (p / "chat_template.jinja").is_file():
            named["default"] = _read_text(p / "chat_template.jinja")
        elif (p / "chat_template.json").is_file():
            found = _templates_from_config(_read_json(p / "chat_template.json").get("chat_template"), p / "chat_template.json")
            if isinstance(found, str):
                named["default"] = found
            elif found:
                named.update(found)
        else:
            found = _templates_from_config(config.get("chat_template"), cfg_path)
            if isinstance(found, str):
                named["default"] = found
            elif found:
                named.update(found)
        extra_dir = p / "additional_chat_templates"
        if extra_dir.is_dir():
            for f in sorted(extra_dir.glob("*.jinja")):
                named[f.stem] = _read_text(f)
        if not named:
            raise InputError(f"no chat template in {p}",
                             hint="expected chat_template.jinja, or a chat_template key in tokenizer_config.json")
        source = named["default"] if set(named) == {"default"} else named
    elif p.suffix == ".json":
        config = _read_json(p)
        source = _templates_from_config(config.get("chat_template"), p)
        if source is None:
            raise InputError(f"{p} has no chat_template key")
    else:
        source = _read_text(p)
        if not source.strip():
            raise InputError(f"chat template {p} is empty")
    tokens = {**_special_tokens(config), **dict(special_tokens or {})}
    _check_compiles(source, p)
    return ChatTemplate(source=source, special_tokens=tokens, origin=str(p))


def _check_compiles(source: str | dict[str, str], path: Path) -> None:
    import jinja2

    from toolforge.chat_template.env import compile_template

    for name, text in ([("", source)] if isinstance(source, str) else sorted(source.items())):
        try:
            compile_template(text)
        except jinja2.TemplateSyntaxError as exc:
            where = f" ({name})" if name else ""
            raise InputError(f"chat template {path}{where} is not valid Jinja: {exc.message} (line {exc.lineno})") from None


# --- rendering ------------------------------------------------------------------------------------

def template_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages as transformers hands them to a template: ``None`` values dropped, reasoning
    aliased as ``reasoning_content`` and ``thinking`` (a deep copy; the input is not changed)."""
    out = []
    for m in messages:
        msg = {k: copy.deepcopy(v) for k, v in m.items() if v is not None}
        reasoning = next((msg[k] for k in REASONING_FIELDS if msg.get(k) is not None), None)
        if reasoning is not None:
            msg = {"thinking": reasoning, **msg, "reasoning_content": reasoning}
        out.append(msg)
    return out


def render_messages(template: ChatTemplate, messages: Sequence[Mapping[str, Any]], tools: list[dict[str, Any]] | None = None,
                    *, add_generation_prompt: bool = False, template_name: str | None = None,
                    variables: Mapping[str, Any] | None = None, now: datetime | None = None) -> str:
    """Render like ``tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, **variables)``.

    Raises ``jinja2.TemplateError`` (``TemplateRaised`` for ``raise_exception``) when the template fails.
    """
    from toolforge.chat_template.env import compile_template

    if not messages:
        raise UsageError("cannot render an empty conversation")
    compiled = compile_template(template.select(name=template_name, with_tools=tools is not None), now)
    kwargs = {**dict(template.special_tokens), **copy.deepcopy(dict(variables or {}))}
    return compiled.render(messages=template_messages(messages), tools=copy.deepcopy(tools), documents=None,
                           add_generation_prompt=add_generation_prompt, **kwargs)


def render_record(template: ChatTemplate, record: Record, *, think: str = "field", add_generation_prompt: bool = False,
                  template_name: str | None = None, variables: Mapping[str, Any] | None = None,
                  now: datetime | None = None) -> RenderResult:
    """Render ``record`` and check that the text holds every turn's content, calls and tools."""
    import jinja2

    from toolforge.chat_template.env import TemplateRaised

    if think not in THINK_MODES:
        raise UsageError(f"unknown --think mode {think!r}", hint=f"choose one of: {', '.join(THINK_MODES)}")
    def render(rec: Record) -> str:
        return render_messages(template, chat_messages(rec, think=think), rec.tools_dump() or None,
                               add_generation_prompt=add_generation_prompt, template_name=template_name,
                               variables=variables, now=now)

    try:
        text = render(record)
    except TemplateRaised as exc:
        return RenderResult(record.id, None, [TemplateIssue("template_raised", "", f"the template refuses this record: {exc}")])
    except jinja2.TemplateError as exc:
        return RenderResult(record.id, None, [TemplateIssue("template_error", "", f"{type(exc).__name__}: {exc}")])
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError) as exc:
        # Template code that fails on this data (e.g. `'+' on str and dict`): the record cannot be rendered.
        return RenderResult(record.id, None, [TemplateIssue("template_error", "", f"{type(exc).__name__}: {exc}")])
    return RenderResult(record.id, text, check_render(record, text, think=think, render=render))


def renderable(template: ChatTemplate, records: Iterable[Record], **kwargs: Any) -> tuple[list[Record], dict[str, int]]:
    """The records ``template`` renders without error-level issues, and a count of the others per issue code."""
    kept: list[Record] = []
    dropped: dict[str, int] = {}
    for rec in records:
        res = render_record(template, rec, **kwargs)
        if res.ok:
            kept.append(rec)
            continue
        for code in sorted({i.code for i in res.issues if i.severity == "error"}):
            dropped[code] = dropped.get(code, 0) + 1
    return kept, dropped


__all__ = ["ERROR_CODES", "ChatTemplate", "RenderResult", "TemplateIssue", "load_chat_template",
           "read_records", "render_messages",
           "render_record", "renderable", "template_messages"]


def read_records(text: str) -> list[Record]:
    """One record as JSON, or JSON Lines of records (InputError naming the line otherwise)."""
    from pydantic import ValidationError

    text = text.strip()
    if not text:
        raise InputError("no record on stdin", hint="pipe a record (JSON) or JSON Lines of records")
    try:
        values = [safejson.loads(text)]
    except json.JSONDecodeError:
        values = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values.append(safejson.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"stdin line {n}: not JSON ({exc.msg} at column {exc.colno})") from None
    records = []
    for n, value in enumerate(values, start=1):
        if not isinstance(value, dict):
            raise InputError(f"record {n}: a record is a JSON object, not {type(value).__name__}")
        try:
            records.append(Record.model_validate(value))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise InputError(f"record {n} is not a record: {where}: {err['msg']}",
                             hint="check it with `toolforge validate FILE`") from None
    return records
