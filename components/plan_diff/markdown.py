"""The plan diff as a PR comment (or job summary): counts, a Mermaid map, details per flavour."""
from __future__ import annotations

import html
import re
from typing import Any, Optional

from .diff import SHARED, PlanDiff
from .redact import Redactor
from .text import is_block, pretty, shortened, text_diff


def _code(text: Any) -> str:
    """Inline code safe inside a Markdown table cell."""
    text = str(text).replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def _escape(text: str) -> str:
    """Plain text in Markdown: `golden_images_dev` stays one word, not half in italics; a
    backquoted phrase of the risk texts (`protect`) stays code."""
    parts = str(text).split("`")
    return "".join(_code(part) if i % 2 else _MARKDOWN_SPECIAL.sub(r"\\\1", part) for i, part in enumerate(parts))


def _html_code(text: Any) -> str:
    """Inline code inside HTML (a <summary>), where Markdown backticks are not rendered."""
    return f"<code>{html.escape(str(text))}</code>"


def _fence(lines: list, lang: str) -> list:
    ticks = "```"
    while any(ticks in line for line in lines):
        ticks += "`"
    return [f"{ticks}{lang}", *lines, ticks]


_MD_ACTION = {"add": "➕ add", "adopt": "📥 adopt existing", "replace": "♻️ replace", "update": "✏️ update", "remove": "🗑️ remove"}


def render_markdown(diff: PlanDiff, max_diff_lines: Optional[int] = 200, max_chars: int = 60000,
                    redactor: Optional[Redactor] = None) -> str:
    """The PR comment: summary table, Mermaid map of flavours, clouds and regions, details per flavour.
    Values the secret scanner flags are masked (redact.py)."""
    diff = (redactor or Redactor()).redact(diff)
    limits = [max_diff_lines] + [n for n in (60, 15, 0) if max_diff_lines is None or n < max_diff_lines]
    for limit in limits:
        text = _markdown(diff, limit)
        if len(text) <= max_chars:
            return text
    return text[: max_chars - 200] + "\n\n_(truncated: run `make plan-diff` locally for the full report)_\n"


def _markdown(diff: PlanDiff, max_diff_lines: Optional[int]) -> str:
    out = [f"<!-- golden-images plan-diff stack={diff.stack} -->"]
    out.append(f"### Offline plan diff: stack `{diff.stack}`")
    out.append("")
    out.append(
        f"{_code(diff.base_label)} → {_code(diff.head_label)}, rendered under Pulumi's mock runtime "
        "(no credentials; `pulumi preview` shows what the clouds say)."
    )
    out.extend(f"> {note}" for note in diff.notes)
    out.append("")
    if diff.empty:
        out.append("**No changes**: both revisions plan the same resources, inputs and outputs.")
        return "\n".join(out) + "\n"
    out += ["| | add | replace | update in place | remove |", "|---|---:|---:|---:|---:|"]
    for group in diff.groups():
        c = diff.counts(group)
        out.append(f"| {_code(group)} | {c['add']} | {c['replace']} | {c['update']} | {c['remove']} |")
    total = diff.counts()
    out.append(f"| **all** | **{total['add']}** | **{total['replace']}** | **{total['update']}** | **{total['remove']}** |")
    out.append("")
    if total.get("adopt"):
        out.append(f"{total['adopt']} existing resource(s) adopted: imported into the state, not created (listed below).")
        out.append("")
    out.append(f"{diff.unchanged} resources unchanged. Counts are cloud resources; component changes are listed below.")
    out.append("")
    if diff.risks:
        out += [f"#### ⚠️ Data at risk ({len(diff.risks)})", ""]
        out.extend(f"- **{risk.title}** {_code(risk.subject)}: {_escape(risk.detail)}" for risk in diff.risks)
        out.append("")
    if diff.flavours:
        out += _fence(mermaid(diff).splitlines(), "mermaid")
        out.append("")
        out.append("_Green: added · red, dashed: removed · amber: changed._")
        out.append("")
    for group in diff.groups():
        title = "Shared per stack" if group == SHARED else f"Flavour `{group}`"
        out += [f"#### {title}", "", "| change | type | name | why |", "|---|---|---|---|"]
        group_changes = [c for c in diff.changes if c.group == group]
        for change in group_changes:
            why = change.reason
            if change.action == "update":
                why = ", ".join(_code(v.path) for v in (change.inputs + change.options)[:6])
                if len(change.inputs + change.options) > 6:
                    why += f" and {len(change.inputs + change.options) - 6} more"
            elif change.action == "replace" and change.causes:
                why = "content changed: " + ", ".join(_code(v.path) for v in change.causes[:6])
                if len(change.causes) > 6:
                    why += f" and {len(change.causes) - 6} more"
                if change.rule:
                    why = f"{change.rule}; {why}"
            kind = "" if change.custom else " (component)"
            name = (
                f"{_code(change.old_name)} → {_code(change.name)}"
                if change.action == "replace" and change.old_name and change.old_name != change.name
                else _code(change.name)
            )
            out.append(f"| {_MD_ACTION[change.action]} | {_code(change.type)}{kind} | {name} | {why} |")
        out.append("")
        for change in group_changes:
            if change.action not in ("replace", "update"):
                continue
            values = change.inputs + change.options
            short = [v for v in values if not is_block(v)]
            blocks = [v for v in values if is_block(v)]
            if short:
                out.append(f"<details><summary>{_html_code(change.name)}: {len(short)} changed value(s)</summary>")
                out += ["", "| input | base | head |", "|---|---|---|"]
                for v in short:
                    note = " _(follows a new name)_" if v.derived else ""
                    out.append(f"| {_code(v.path)}{note} | {_code(shortened(v.before, 80))} | {_code(shortened(v.after, 80))} |")
                out += ["", "</details>", ""]
            for v in blocks:
                what = {"changed": "text diff", "added": "added", "removed": "removed"}[v.kind]
                out.append(f"<details><summary>{_html_code(change.name)} {_html_code(v.path)}: {what}</summary>")
                out.append("")
                if v.kind == "changed":
                    out += _fence(text_diff(v, max_diff_lines), "diff")
                else:
                    out += _fence(pretty(v.after if v.kind == "added" else v.before), "json")
                out += ["", "</details>", ""]
    if diff.outputs:
        out += ["#### Stack outputs", "", "| output | base | head |", "|---|---|---|"]
        for v in diff.outputs:
            out.append(f"| {_code(v.path)} | {_code(shortened(v.before, 80))} | {_code(shortened(v.after, 80))} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_CLOUD_LABEL = {"aws": "AWS", "azure": "Azure"}


def mermaid(diff: PlanDiff) -> str:
    """A Mermaid graph: stack -> flavours -> clouds -> regions, coloured by what the change does."""
    lines = [
        "graph LR",
        "  classDef added fill:#dafbe1,stroke:#1a7f37,color:#1a7f37",
        "  classDef removed fill:#ffebe9,stroke:#cf222e,color:#cf222e,stroke-dasharray:4 3",
        "  classDef changed fill:#fff8c5,stroke:#9a6700,color:#6f4e00",
        f"  stack([\"{_mermaid_label('stack ' + diff.stack)}\"])",
    ]
    marks: dict = {"added": [], "removed": [], "changed": []}
    for i, flavour in enumerate(diff.flavours):
        fid = f"f{i}"
        lines.append(f"  {fid}[\"{_mermaid_label(flavour.label)}\"]")
        lines.append(f"  stack --> {fid}")
        if flavour.status in marks:
            marks[flavour.status].append(fid)
        for cloud in flavour.clouds:
            cid = f"{fid}_{_mermaid_id(cloud.name)}"
            lines.append(f"  {cid}[\"{_mermaid_label(_CLOUD_LABEL.get(cloud.name, cloud.name))}\"]")
            lines.append(f"  {fid} --> {cid}")
            if cloud.status in marks:
                marks[cloud.status].append(cid)
            for j, region in enumerate(cloud.regions):
                rid = f"{cid}_r{j}"
                lines.append(f"  {rid}([\"{_mermaid_label(region.name)}\"])")
                lines.append(f"  {cid} --> {rid}")
                if region.status in marks:
                    marks[region.status].append(rid)
    for status, ids in marks.items():
        if ids:
            lines.append(f"  class {','.join(ids)} {status}")
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _mermaid_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)
