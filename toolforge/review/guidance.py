"""What an annotator sees besides the conversation: project instructions, the scenario's checklist,
and a typed tools panel (every parameter's type, allowed values, required flag, description).

Text comes from ``label_studio/guidance.yaml``. The tools panel is HTML built here; every piece of
record text in it is escaped (tool names and descriptions are data, never markup).
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any


@functools.lru_cache(maxsize=1)
def guidance() -> dict[str, Any]:
    import yaml

    from toolforge.resources import resource_dir

    data = yaml.safe_load((resource_dir("label_studio") / "guidance.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def instructions_html() -> str:
    """The project's instructions (Label Studio shows them before labeling and on the Instructions button)."""
    text = str(guidance().get("instructions") or "").strip()
    return "<div>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()) + "</div>"


def checklist(scenario: str | None) -> str:
    lists = guidance().get("checklists") or {}
    items = lists.get(scenario or "") or lists.get("default") or []
    head = f"Checklist ({scenario})" if scenario else "Checklist"
    return head + ":\n" + "\n".join(f"[ ] {item}" for item in items)


def _type_of(schema: dict[str, Any]) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        text = " | ".join(str(x) for x in t)
    elif t:
        text = str(t)
    elif "anyOf" in schema or "oneOf" in schema:
        text = " | ".join(_type_of(s) for s in (schema.get("anyOf") or schema.get("oneOf") or []) if isinstance(s, dict))
    else:
        text = "any"
    if t == "array" and isinstance(schema.get("items"), dict):
        text = f"array of {_type_of(schema['items'])}"
    return text


def _constraints(schema: dict[str, Any]) -> list[str]:
    out = []
    if "enum" in schema:
        out.append("one of: " + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]))
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("pattern", "pattern"), ("format", "format")):
        if key in schema:
            out.append(f"{label} {schema[key]}")
    if "default" in schema:
        out.append("default " + json.dumps(schema["default"], ensure_ascii=False))
    return out


def tools_html(tools: list[dict[str, Any]]) -> str:
    """One block per tool: name, description, and a table of its parameters."""
    if not tools:
        return "<p><i>No tools offered in this conversation.</i></p>"
    e = html.escape
    parts = ['<div class="tf-tools">']
    for tool in tools:
        fn = tool.get("function") or {}
        params = fn.get("parameters") or {}
        props = params.get("properties") or {}
        required = set(params.get("required") or [])
        parts.append(f'<div class="tf-tool"><b>{e(str(fn.get("name", "?")))}</b> '
                     f'<span>{e(str(fn.get("description") or ""))}</span>')
        if props:
            parts.append('<table class="tf-params"><tr><th>parameter</th><th>type</th><th>required</th>'
                         "<th>allowed values / limits</th><th>description</th></tr>")
            for name, schema in props.items():
                schema = schema if isinstance(schema, dict) else {}
                parts.append(
                    f"<tr><td><code>{e(str(name))}</code></td><td>{e(_type_of(schema))}</td>"
                    f"<td>{'required' if name in required else 'optional'}</td>"
                    f"<td>{e('; '.join(_constraints(schema)))}</td><td>{e(str(schema.get('description') or ''))}</td></tr>")
            parts.append("</table>")
        else:
            parts.append("<div><i>no parameters</i></div>")
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)
