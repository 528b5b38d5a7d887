"""What a change does to a stack, offline: the plans of two revisions compared.

`python -m components.plan_diff --base origin/main --stack dev [--markdown]`
renders the offline plan (components/plan.py) of the base revision in a
temporary git worktree and of the working tree, then reports per flavour the
resources added, replaced (and which inputs made them new), updated in place
and removed, with scripts shown as text diffs. No Pulumi CLI, no credentials.

Matching rules, in order:
1. Same URN in both plans: the same resource. Changed inputs are an update in
   place, unless Pulumi would replace it: a changed input is listed in the
   resource's `replaceOnChanges` option, or the resource type cannot be
   updated at all (EC2 Image Builder components, recipes and workflows: only
   their tags can change in place).
2. Immutable cloud objects carry a content hash in their names (DESIGN.md,
   decision 2), so a changed script gives a resource with a new name, and
   where the name is also the resource's Pulumi name, a new URN. A removed
   and an added resource are the same *role*, replaced, when they have the
   same type, the same parent and names that differ only in hash tokens: a
   run of 6-16 lower-case hex characters with at least one digit, standing
   alone between separators (`-`, `_`, `.`, `/`, `:`), e.g.
   `golden-images-dev-os-updates-linux-209b713c8e`.
3. Everything else is added or removed.

A changed input that only follows another resource's new name (a pipeline's
recipe ARN, a recipe's component ARNs) is marked as such, so the causes of a
replacement stand out. Scripts that a renderer embeds base64-encoded (Azure
inline customizers) are decoded for their text diff.

`diff_plans` and the renderers are pure functions of two plan dicts (the JSON
that `make plan` writes); only `main` runs git and the plan program.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import difflib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_IMAGE = "golden-images:index:GoldenImage"
SHARED = "shared"

# A content hash inside a name: hex, 6-16 characters, at least one digit, not part of a longer word.
_HASH_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*[0-9])[0-9a-f]{6,16}(?![0-9A-Za-z])")
# In input values only tokens that mix digits and letters count, so account ids and other
# numbers never pass for hashes.
_MIXED_HASH_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{6,16}(?![0-9A-Za-z])"
)
# Strings longer than this, or with a line break, are shown as text diffs.
TEXT_THRESHOLD = 100
# Resource types with no update operation: any change but these inputs replaces them.
IMMUTABLE = {
    "aws:imagebuilder/component:Component": ("EC2 Image Builder components", {"tags"}),
    "aws:imagebuilder/imageRecipe:ImageRecipe": ("EC2 Image Builder recipes", {"tags"}),
    "aws:imagebuilder/containerRecipe:ContainerRecipe": ("EC2 Image Builder recipes", {"tags"}),
    "aws:imagebuilder/workflow:Workflow": ("EC2 Image Builder workflows", {"tags"}),
}
# A payload of a script embedded in a command line, e.g. `printf '%s' '<base64>' | base64 -d > f`.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{80,}={0,2}(?![A-Za-z0-9+/=])")
# Inputs listed for a new resource in the text report.
ADDED_INPUTS_SHOWN = 12


class _Missing:
    """Marks the side of a change where a value does not exist."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ValueChange:
    """One changed value at an input path such as `distributions[region=us-east-1]`."""

    path: str
    before: Any
    after: Any
    derived: bool = False  # only references to replaced resources (their new names) changed

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        if self.after is MISSING:
            return "removed"
        return "changed"

    @property
    def is_text(self) -> bool:
        return self.kind == "changed" and (_texty(self.before) or _texty(self.after))


@dataclass
class ResourceChange:
    """A resource added, replaced, updated in place or removed."""

    action: str  # add | replace | update | remove
    type: str
    name: str  # the head's name; the base's for a removal
    group: str  # the flavour (GoldenImage) it belongs to, or "shared"
    custom: bool
    old_name: Optional[str] = None  # replace: the base's name
    inputs: list = field(default_factory=list)  # ValueChange
    options: list = field(default_factory=list)  # ValueChange
    reason: str = ""
    rule: str = ""  # same URN, yet replaced: why Pulumi replaces instead of updating

    @property
    def causes(self) -> list:
        """Input changes that are not just references to other replaced resources."""
        return [c for c in self.inputs if not c.derived]


@dataclass
class RegionNode:
    name: str
    status: str  # added | removed | same


@dataclass
class CloudNode:
    name: str
    status: str
    regions: list = field(default_factory=list)


@dataclass
class FlavourNode:
    name: str
    status: str  # added | removed | changed | same
    label: str
    clouds: list = field(default_factory=list)


@dataclass
class PlanDiff:
    stack: str
    base_label: str
    head_label: str
    changes: list = field(default_factory=list)
    unchanged: int = 0  # cloud resources with the same URN, inputs and options
    outputs: list = field(default_factory=list)  # ValueChange of stack outputs
    flavours: list = field(default_factory=list)  # FlavourNode
    notes: list = field(default_factory=list)

    def counts(self, group: Optional[str] = None) -> dict:
        """Cloud resources (not components) per action, of one group or of all."""
        counts = {"add": 0, "replace": 0, "update": 0, "remove": 0}
        for change in self.changes:
            if (group is None or change.group == group) and change.custom:
                counts[change.action] += 1
        return counts

    def groups(self) -> list:
        """Flavours in plan order, then "shared", each only when something in it changed."""
        order = [f.name for f in self.flavours]
        seen = {c.group for c in self.changes}
        groups = [g for g in order if g in seen]
        groups += sorted(g for g in seen if g not in order and g != SHARED)
        if SHARED in seen:
            groups.append(SHARED)
        return groups

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs


# --- the comparison -----------------------------------------------------------------------------


def diff_plans(base: dict, head: dict, base_label: str = "base", head_label: str = "head") -> PlanDiff:
    """Compare two plans (the JSON `make plan` writes): what changes from base to head."""
    stack = head.get("stack") or base.get("stack") or ""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    old_groups, new_groups = _groups(base), _groups(head)

    removed = [old[u] for u in old if u not in new]
    added = [new[u] for u in new if u not in old]
    pairs = _pair_replacements(removed, added)
    paired_old = {id(a) for a, _ in pairs}
    paired_new = {id(b) for _, b in pairs}
    urn_renames = {a["urn"]: b["urn"] for a, b in pairs}
    renames = _renames(pairs + [(old[u], new[u]) for u in new if u in old])

    changes: list[ResourceChange] = []
    unchanged = 0
    for urn, after in new.items():
        if urn in old:
            before = old[urn]
            inputs = diff_values(before.get("inputs", {}), after.get("inputs", {}), renames=renames)
            options = diff_values(
                _options(before, urn_renames), _options(after, {}), path="options", renames=renames
            )
            if not inputs and not options:
                unchanged += 1 if after.get("custom") else 0
                continue
            forced = _forced_replacement(after, inputs)
            immutable = _immutable_changes(after, inputs)
            if forced:
                rule = f"replaceOnChanges [{', '.join((after.get('options') or {}).get('replaceOnChanges') or [])}]"
            elif immutable:
                rule = f"{IMMUTABLE[after['type']][0]} cannot be updated in place"
            else:
                rule = ""
            reason = f"{rule}; {_replace_reason(inputs)}" if rule else ""
            changes.append(
                ResourceChange(
                    action="replace" if forced or immutable else "update",
                    type=after["type"],
                    name=after["name"],
                    group=new_groups.get(urn, SHARED),
                    custom=bool(after.get("custom")),
                    inputs=inputs,
                    options=options,
                    reason=reason,
                    rule=rule,
                )
            )
    for before, after in pairs:
        inputs = diff_values(before.get("inputs", {}), after.get("inputs", {}), renames=renames)
        options = diff_values(_options(before, urn_renames), _options(after, {}), path="options", renames=renames)
        reason = _replace_reason(inputs)
        changes.append(
            ResourceChange(
                action="replace",
                type=after["type"],
                name=after["name"],
                old_name=before["name"],
                group=new_groups.get(after["urn"], SHARED),
                custom=bool(after.get("custom")),
                inputs=inputs,
                options=options,
                reason=reason,
            )
        )
    for res in added:
        if id(res) not in paired_new:
            changes.append(
                ResourceChange(
                    action="add",
                    type=res["type"],
                    name=res["name"],
                    group=new_groups.get(res["urn"], SHARED),
                    custom=bool(res.get("custom")),
                    inputs=[ValueChange(k, MISSING, v) for k, v in sorted(res.get("inputs", {}).items())],
                )
            )
    for res in removed:
        if id(res) not in paired_old:
            changes.append(
                ResourceChange(
                    action="remove",
                    type=res["type"],
                    name=res["name"],
                    group=old_groups.get(res["urn"], SHARED),
                    custom=bool(res.get("custom")),
                    reason="protected: the deletion will fail until `protect` is lifted"
                    if (res.get("options") or {}).get("protect")
                    else "",
                )
            )
    rank = {"replace": 0, "update": 1, "add": 2, "remove": 3}
    changes.sort(key=lambda c: (not c.custom, rank[c.action], c.type, c.name))
    outputs = diff_values(base.get("outputs", {}), head.get("outputs", {}), renames=renames)
    diff = PlanDiff(
        stack=stack,
        base_label=base_label,
        head_label=head_label,
        changes=changes,
        unchanged=unchanged,
        outputs=outputs,
    )
    diff.flavours = _topology(base, head, {c.group for c in changes}, outputs)
    return diff


def _renames(pairs: list) -> dict:
    """Old name -> new name of every resource renamed between the plans: its Pulumi name and the
    name-like inputs (`name`, `imageTemplateName`, ...) that hold its name in the cloud."""
    renames = {}
    for before, after in pairs:
        if before["name"] != after["name"]:
            renames[before["name"]] = after["name"]
        old_inputs, new_inputs = before.get("inputs") or {}, after.get("inputs") or {}
        for key, value in new_inputs.items():
            previous = old_inputs.get(key)
            if (
                key.lower().endswith("name")
                and isinstance(value, str)
                and isinstance(previous, str)
                and previous != value
                and stem(previous) == stem(value)
            ):
                renames[previous] = value
    return renames


def _replace_reason(inputs: list) -> str:
    causes = [c.path for c in inputs if not c.derived]
    if causes:
        return "content changed: " + ", ".join(causes)
    # The resource's own new name is the consequence, not a reason.
    references = [c.path for c in inputs if not _top(c.path).lower().endswith("name")]
    if references:
        return "references replaced resources: " + ", ".join(references)
    return "new name, same content"


def _immutable_changes(resource: dict, inputs: list) -> list:
    """Changed inputs of a resource type that has no update operation."""
    if resource["type"] not in IMMUTABLE:
        return []
    mutable = IMMUTABLE[resource["type"]][1]
    return [c.path for c in inputs if _top(c.path) not in mutable]


def _top(path: str) -> str:
    """The input a change path starts at: `distributions` of `distributions[region=x].name`."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def diff_values(before: Any, after: Any, path: str = "", renames: Optional[dict] = None) -> list:
    """Every changed leaf between two JSON values, with list items aligned rather than by index."""
    renames = renames or {}
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                changes.append(ValueChange(sub, MISSING, after[key]))
            elif key not in after:
                changes.append(ValueChange(sub, before[key], MISSING))
            else:
                changes.extend(diff_values(before[key], after[key], sub, renames))
        return changes
    if isinstance(before, list) and isinstance(after, list) and not (_scalars(before) and _scalars(after)):
        return _diff_lists(before, after, path, renames)
    return [ValueChange(path, before, after, derived=_only_renamed(before, after, renames))]


def _diff_lists(before: list, after: list, path: str, renames: dict) -> list:
    """Align list items (so an inserted region is one addition, not every later item changed)."""
    matcher = difflib.SequenceMatcher(a=[_canonical(x) for x in before], b=[_canonical(x) for x in after], autojunk=False)
    changes = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for k in range(common):
            label = _item_label(path, after, j1 + k, before[i1 + k])
            changes.extend(diff_values(before[i1 + k], after[j1 + k], label, renames))
        for k in range(i1 + common, i2):
            changes.append(ValueChange(_item_label(path, before, k), before[k], MISSING))
        for k in range(j1 + common, j2):
            changes.append(ValueChange(_item_label(path, after, k), MISSING, after[k]))
    return changes


# Keys that name a list item better than its index: a region, a customizer's name, ...
_ITEM_KEYS = ("region", "name", "parameterName", "type")


def _item_label(path: str, items: list, index: int, counterpart: Any = MISSING) -> str:
    """`path[region=us-east-1]` when a key names the item uniquely (and, for a changed item, has
    the same value on both sides), else `path[index]`."""
    item = items[index]
    if isinstance(item, dict):
        for key in _ITEM_KEYS:
            value = item.get(key)
            if counterpart is not MISSING and (not isinstance(counterpart, dict) or counterpart.get(key) != value):
                continue
            if isinstance(value, str) and sum(1 for x in items if isinstance(x, dict) and x.get(key) == value) == 1:
                return f"{path}[{key}={value}]"
    return f"{path}[{index}]"


def _scalars(items: list) -> bool:
    return all(not isinstance(x, (dict, list)) for x in items)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _only_renamed(before: Any, after: Any, renames: dict) -> bool:
    """True when `after` is `before` with replaced resources' names (content hashes) swapped."""
    if before is MISSING or after is MISSING:
        return False
    text_before, text_after = _canonical(before), _canonical(after)
    for old, new in sorted(renames.items(), key=lambda kv: -len(kv[0])):
        text_before = text_before.replace(old, new)
    if text_before == text_after:
        return True
    # Ids the engine derives from a replaced resource's name carry their own short hashes. Only
    # short values (ids, ARNs) get this benefit of the doubt: in a script, a changed hex token is
    # a real change (a pinned commit, a checksum) and must show as one.
    if not renames or _texty(before) or _texty(after):
        return False
    return _MIXED_HASH_TOKEN.sub("#", text_before) == _MIXED_HASH_TOKEN.sub("#", text_after)


def _options(resource: dict, urn_renames: dict) -> dict:
    options = dict(resource.get("options") or {})
    if "dependsOn" in options:
        options["dependsOn"] = sorted(urn_renames.get(u, u) for u in options["dependsOn"])
    return options


def _forced_replacement(resource: dict, inputs: list) -> list:
    """Changed inputs that the resource's `replaceOnChanges` option turns into a replacement."""
    patterns = (resource.get("options") or {}).get("replaceOnChanges") or []
    forced = []
    for change in inputs:
        top = _top(change.path)
        if any(p in ("*", change.path, top) or change.path.startswith(p + ".") for p in patterns):
            forced.append(change.path)
    return forced


def stem(text: str) -> str:
    """A name or URN with its content-hash tokens blanked: the resource's role."""
    return _HASH_TOKEN.sub("#", text)


def _pair_replacements(removed: list, added: list) -> list:
    """(old, new) pairs of resources in the same role whose names differ only by content hash."""
    def key(res: dict) -> tuple:
        return (res["type"], stem(res.get("parent") or ""), stem(res["name"]))

    by_key: dict = {}
    for res in removed:
        by_key.setdefault(key(res), ([], []))[0].append(res)
    for res in added:
        if key(res) in by_key:
            by_key[key(res)][1].append(res)
    pairs = []
    for olds, news in by_key.values():
        olds, news = list(olds), list(news)
        if not news:
            continue
        if len(olds) == len(news) == 1:
            pairs.append((olds[0], news[0]))
            continue
        # Several in one role: pair the most alike first.
        while olds and news:
            best = min(
                ((o, n) for o in olds for n in news),
                key=lambda p: (len(diff_values(p[0].get("inputs", {}), p[1].get("inputs", {}))), p[0]["name"], p[1]["name"]),
            )
            pairs.append(best)
            olds.remove(best[0])
            news.remove(best[1])
    return pairs


def _groups(plan: dict) -> dict:
    """URN -> the flavour (GoldenImage) above it, or "shared"."""
    resources = plan.get("resources", [])
    parent = {r["urn"]: r.get("parent") or "" for r in resources}
    flavour = {r["urn"]: r["name"] for r in resources if r["type"] == GOLDEN_IMAGE}
    groups = {}
    for res in resources:
        current, seen = res["urn"], set()
        while current and current not in flavour and current not in seen:
            seen.add(current)
            current = parent.get(current, "")
        groups[res["urn"]] = flavour.get(current, SHARED)
    return groups


def _flavour_summaries(plan: dict) -> dict:
    flavours = (plan.get("outputs") or {}).get("flavours") or {}
    return flavours if isinstance(flavours, dict) else {}


def _regions(summary: dict, cloud: str) -> list:
    details = summary.get(cloud) if isinstance(summary, dict) else None
    regions = details.get("regions") if isinstance(details, dict) else None
    return [str(r) for r in regions] if isinstance(regions, list) else []


def _topology(base: dict, head: dict, changed_groups: set, outputs: list) -> list:
    """Flavours -> clouds -> regions of both plans, each marked added, removed, changed or same."""
    old, new = _flavour_summaries(base), _flavour_summaries(head)
    names = list(new) + [n for n in old if n not in new]
    output_changed = {c.path.split(".")[1] for c in outputs if c.path.startswith("flavours.") and c.path.count(".") >= 1}
    nodes = []
    for name in names:
        if name not in old:
            status = "added"
        elif name not in new:
            status = "removed"
        elif name in changed_groups or name in output_changed:
            status = "changed"
        else:
            status = "same"
        summary_old, summary_new = old.get(name) or {}, new.get(name) or {}
        current = summary_new if name in new else summary_old
        version = current.get("version", "") if isinstance(current, dict) else ""
        label = f"{name} {version}".strip()
        clouds_old = list(summary_old.get("clouds") or []) if name in old else []
        clouds_new = list(summary_new.get("clouds") or []) if name in new else []
        node = FlavourNode(name=name, status=status, label=label)
        for cloud in clouds_new + [c for c in clouds_old if c not in clouds_new]:
            cloud_status = _status(cloud in clouds_old, cloud in clouds_new)
            regions_old = _regions(summary_old, cloud) if cloud in clouds_old else []
            regions_new = _regions(summary_new, cloud) if cloud in clouds_new else []
            node.clouds.append(
                CloudNode(
                    name=cloud,
                    status=cloud_status,
                    regions=[
                        RegionNode(r, _status(r in regions_old, r in regions_new))
                        for r in regions_new + [r for r in regions_old if r not in regions_new]
                    ],
                )
            )
        nodes.append(node)
    return nodes


def _status(in_old: bool, in_new: bool) -> str:
    return "same" if in_old and in_new else "added" if in_new else "removed"


# --- rendering helpers ----------------------------------------------------------------------------


def _texty(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" in value or len(value) > TEXT_THRESHOLD
    if isinstance(value, list) and value and _scalars(value):
        return any(isinstance(x, str) and "\n" in x for x in value) or len(_canonical(value)) > TEXT_THRESHOLD
    return False


def _as_lines(value: Any) -> list:
    """A value as text lines: scripts as they are (embedded base64 payloads decoded), JSON
    documents pretty-printed, lists one item a line."""
    if value is MISSING or value is None:
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and "\n" not in stripped:
            try:
                return json.dumps(json.loads(value), indent=2, sort_keys=True).splitlines()
            except ValueError:
                pass
        return [out for line in value.splitlines() for out in _decoded(line)]
    if isinstance(value, list) and _scalars(value):
        lines = []
        for item in value:
            lines.extend(_as_lines(item) if isinstance(item, str) else [json.dumps(item)])
        return lines
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def _decoded(line: str) -> list:
    """A line with its base64-encoded script payloads replaced by a marker and the decoded text
    below it, so a changed embedded script diffs line by line instead of as one opaque blob."""
    decoded: list = []

    def replace(match: re.Match) -> str:
        try:
            text = base64.b64decode(match.group(0), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return match.group(0)
        if "\n" not in text.strip() or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
            return match.group(0)
        lines = text.splitlines()
        decoded.extend(f"    | {text_line}" for text_line in lines)
        return f"<base64 of {len(lines)} lines, decoded below>"

    head = _BASE64.sub(replace, line)
    return [head, *decoded]


def text_diff(change: ValueChange, max_lines: Optional[int] = None) -> list:
    """Unified diff of a long string or list of script lines (base -> head)."""
    lines = list(
        difflib.unified_diff(
            _as_lines(change.before), _as_lines(change.after), fromfile=f"base {change.path}",
            tofile=f"head {change.path}", lineterm="", n=3,
        )
    )
    if max_lines is not None and len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines] + [f"... {hidden} more diff lines (run `make plan-diff` locally for all)"]
    return lines


def _short(value: Any, limit: int = 120) -> str:
    if value is MISSING:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(change: ResourceChange) -> str:
    if change.action == "replace" and change.old_name and change.old_name != change.name:
        return f"{change.old_name} -> {change.name}"
    return change.name


def _count_line(counts: dict) -> str:
    return ", ".join(
        f"{counts[k]} to {label}" for k, label in (("add", "add"), ("replace", "replace"), ("update", "update in place"), ("remove", "remove"))
    )


# --- plain text ----------------------------------------------------------------------------------


_SIGN = {"add": "+", "replace": "+-", "update": "~", "remove": "-"}


def render_text(diff: PlanDiff, max_diff_lines: Optional[int] = None) -> str:
    """The terminal report: per flavour, what changes and why; scripts as unified diffs."""
    out = [f"Plan diff of stack '{diff.stack}': {diff.base_label} -> {diff.head_label} (offline, mock runtime)"]
    out.append(f"  cloud resources: {_count_line(diff.counts())}; {diff.unchanged} unchanged")
    out.extend(f"  note: {note}" for note in diff.notes)
    if diff.empty:
        out.append("")
        out.append("No changes: both revisions plan the same resources, inputs and outputs.")
        return "\n".join(out) + "\n"
    for group in diff.groups():
        counts = diff.counts(group)
        title = "shared (once per stack)" if group == SHARED else f"flavour {group}"
        out += ["", f"== {title}: {_count_line(counts)} =="]
        for change in (c for c in diff.changes if c.group == group):
            kind = "" if change.custom else " (component)"
            out.append(f"{_SIGN[change.action]:>2} {change.action} {change.type}{kind} {_name(change)}")
            if change.reason:
                out.append(f"      why: {change.reason}")
            if change.action in ("replace", "update"):
                for value in change.inputs + change.options:
                    out.extend("      " + line for line in _text_value(value, max_diff_lines))
            elif change.action == "add" and change.custom:
                for value in change.inputs[:ADDED_INPUTS_SHOWN]:
                    lines = len(_as_lines(value.after)) if _texty(value.after) else 1
                    if lines > 1:
                        out.append(f"      {value.path}: ({lines} lines)")
                    else:
                        out.append(f"      {value.path} = {_short(value.after)}")
                if len(change.inputs) > ADDED_INPUTS_SHOWN:
                    out.append(f"      ... and {len(change.inputs) - ADDED_INPUTS_SHOWN} more inputs")
    if diff.outputs:
        out += ["", "== stack outputs =="]
        for value in diff.outputs:
            out.extend("  " + line for line in _text_value(value, max_diff_lines))
    return "\n".join(out) + "\n"


def _is_block(value: ValueChange) -> bool:
    """Shown as a block of its own: a text diff, or a whole structure added or removed."""
    if value.kind == "changed":
        return value.is_text and not value.derived
    whole = value.after if value.kind == "added" else value.before
    return isinstance(whole, (dict, list)) and len(_canonical(whole)) > TEXT_THRESHOLD


def _pretty(value: Any) -> list:
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def _text_value(value: ValueChange, max_diff_lines: Optional[int]) -> list:
    tag = " (follows a new name)" if value.derived else ""
    if value.kind == "added":
        if _is_block(value):
            return [f"+ {value.path} ="] + ["    " + line for line in _pretty(value.after)]
        return [f"+ {value.path} = {_short(value.after)}"]
    if value.kind == "removed":
        if _is_block(value):
            return [f"- {value.path}, was:"] + ["    " + line for line in _pretty(value.before)]
        return [f"- {value.path} (was {_short(value.before)})"]
    if value.is_text and not value.derived:
        return [f"~ {value.path}:"] + ["    " + line for line in text_diff(value, max_diff_lines)]
    return [f"~ {value.path}: {_short(value.before, 60)} -> {_short(value.after, 60)}{tag}"]


# --- Markdown (PR comments, job summaries) ----------------------------------------------------------


def _code(text: Any) -> str:
    """Inline code safe inside a Markdown table cell."""
    text = str(text).replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _html_code(text: Any) -> str:
    """Inline code inside HTML (a <summary>), where Markdown backticks are not rendered."""
    return f"<code>{html.escape(str(text))}</code>"


def _fence(lines: list, lang: str) -> list:
    ticks = "```"
    while any(ticks in line for line in lines):
        ticks += "`"
    return [f"{ticks}{lang}", *lines, ticks]


_MD_ACTION = {"add": "➕ add", "replace": "♻️ replace", "update": "✏️ update", "remove": "🗑️ remove"}


def render_markdown(diff: PlanDiff, max_diff_lines: Optional[int] = 200, max_chars: int = 60000) -> str:
    """The PR comment: summary table, Mermaid map of flavours, clouds and regions, details per flavour."""
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
    out.append(f"{diff.unchanged} resources unchanged. Counts are cloud resources; component changes are listed below.")
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
            short = [v for v in values if not _is_block(v)]
            blocks = [v for v in values if _is_block(v)]
            if short:
                out.append(f"<details><summary>{_html_code(change.name)}: {len(short)} changed value(s)</summary>")
                out += ["", "| input | base | head |", "|---|---|---|"]
                for v in short:
                    note = " _(follows a new name)_" if v.derived else ""
                    out.append(f"| {_code(v.path)}{note} | {_code(_short(v.before, 80))} | {_code(_short(v.after, 80))} |")
                out += ["", "</details>", ""]
            for v in blocks:
                what = {"changed": "text diff", "added": "added", "removed": "removed"}[v.kind]
                out.append(f"<details><summary>{_html_code(change.name)} {_html_code(v.path)}: {what}</summary>")
                out.append("")
                if v.kind == "changed":
                    out += _fence(text_diff(v, max_diff_lines), "diff")
                else:
                    out += _fence(_pretty(v.after if v.kind == "added" else v.before), "json")
                out += ["", "</details>", ""]
    if diff.outputs:
        out += ["#### Stack outputs", "", "| output | base | head |", "|---|---|---|"]
        for v in diff.outputs:
            out.append(f"| {_code(v.path)} | {_code(_short(v.before, 80))} | {_code(_short(v.after, 80))} |")
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


# --- building the two plans -------------------------------------------------------------------------


class PlanFailed(Exception):
    """A revision's plan could not be built; the message says which and why."""


def _git(args: list, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PlanFailed(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def _plan_env() -> dict:
    env = dict(os.environ)
    # The checkout under test must import its own components, and neither plan may depend on
    # which commit CI happens to build (source-commit tags would differ on every run).
    for key in ("PYTHONPATH", "PYTHONSAFEPATH", "GITHUB_SHA", "GOLDEN_IMAGES_SOURCE_COMMIT"):
        env.pop(key, None)
    return env


class _PlanRun:
    """`python -m components.plan` running in a checkout, writing its plan file to `out`."""

    def __init__(self, project: Path, stack: str, label: str, out: Path, python: str = sys.executable):
        self.label, self.out = label, out
        self.process = subprocess.Popen(
            [python, "-m", "components.plan", "--stack", stack, "--out", str(out), "--quiet"],
            cwd=project,
            env=_plan_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict:
        stdout, stderr = self.process.communicate()
        # Exit 1 is a guardrail violation with the plan file written: still worth diffing
        # (the plan job reports the violation itself); anything else is a failed plan.
        if self.process.returncode not in (0, 1) or not self.out.is_file():
            detail = stderr.strip() or stdout.strip() or f"exit code {self.process.returncode}"
            raise PlanFailed(f"the plan of {self.label} failed:\n{detail}")
        return json.loads(self.out.read_text())


def build_plan(project: Path, stack: str, label: str, python: str = sys.executable) -> dict:
    """Run `python -m components.plan` in a checkout and return its plan file as a dict."""
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        return _PlanRun(project, stack, label, Path(tmp) / f"{stack}.json", python).result()


def resolve(ref: str, project: Path = ROOT) -> str:
    """The commit a revision names; PlanFailed when git does not know it."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], project)
    except PlanFailed:
        raise PlanFailed(f"unknown git revision '{ref}' (fetch it first, e.g. `git fetch origin main`)") from None


@contextmanager
def _worktree(sha: str, project: Path):
    """The project as of `sha`, in a temporary detached worktree that is removed afterwards."""
    prefix = _git(["rev-parse", "--show-prefix"], project)
    tmp = Path(tempfile.mkdtemp(prefix="plan-diff-base-"))
    checkout = tmp / "base"
    try:
        _git(["worktree", "add", "--detach", "--quiet", str(checkout), sha], project)
        yield checkout / prefix
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=project, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=project, capture_output=True)


EMPTY_PLAN = {"project": "", "stack": "", "resources": [], "outputs": {}}


def plans(ref: str, stack: str, project: Path = ROOT, python: str = sys.executable,
          head_plan: Optional[dict] = None) -> tuple:
    """(base plan, base label, head plan, notes): `ref` rendered in a temporary worktree while the
    working tree renders beside it (two processes, so the wait is one plan's, not two)."""
    sha = resolve(ref, project)
    label = f"{ref} ({sha[:7]})"
    notes: list = []
    runs: list = []
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        try:
            if head_plan is None:
                runs.append(_PlanRun(project, stack, "the working tree", Path(tmp) / "head.json", python))
            with _worktree(sha, project) as base_project:
                try:
                    base_run = None
                    if not (base_project / f"Pulumi.{stack}.yaml").is_file():
                        notes.append(f"stack '{stack}' does not exist at {label}: every resource is new")
                    elif not (base_project / "components" / "plan.py").is_file():
                        raise PlanFailed(f"{label} has no offline plan (components/plan.py); choose a newer BASE")
                    else:
                        old, new = base_project / "requirements.txt", project / "requirements.txt"
                        if old.is_file() and new.is_file() and old.read_text() != new.read_text():
                            notes.append(f"requirements.txt differs at {label}; its plan was rendered with "
                                         "the working tree's packages")
                        base_run = _PlanRun(base_project, stack, label, Path(tmp) / "base.json", python)
                        runs.append(base_run)
                    # The working tree's error first: a mistake there is the likelier one.
                    head = head_plan if head_plan is not None else runs[0].result()
                    base = base_run.result() if base_run else {**EMPTY_PLAN, "stack": stack}
                finally:
                    _stop(runs)  # before the worktree goes
        finally:
            _stop(runs)
    return base, label, head, notes


def _stop(runs: list) -> None:
    """End plan processes still running (after the other plan failed)."""
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.communicate()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make plan-diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="origin/main", help="git revision to compare with (default origin/main)")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--markdown", action="store_true", help="Markdown with a Mermaid map, for PR comments")
    parser.add_argument("--out", default=None, help="write the report here instead of stdout")
    parser.add_argument("--base-plan", default=None, help="compare this plan file instead of rendering --base")
    parser.add_argument("--head-plan", default=None, help="compare this plan file instead of the working tree")
    parser.add_argument("--max-diff-lines", type=int, default=None, help="cut text diffs after this many lines")
    parser.add_argument("--max-chars", type=int, default=60000,
                        help="Markdown: shorten text diffs until the report fits (a PR comment holds 65536)")
    return parser


def main(argv: Optional[Iterable[str]] = None) -> int:
    args = parser().parse_args(list(argv) if argv is not None else None)
    notes: list = []
    try:
        head = json.loads(Path(args.head_plan).read_text()) if args.head_plan else None
        head_label = args.head_plan or "working tree"
        if args.base_plan:
            base, base_label = json.loads(Path(args.base_plan).read_text()), args.base_plan
            if head is None:
                head = build_plan(ROOT, args.stack, "the working tree")
        else:
            base, base_label, head, notes = plans(args.base, args.stack, head_plan=head)
    except PlanFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    diff = diff_plans(base, head, base_label, head_label)
    diff.notes.extend(notes)
    if args.markdown:
        limit = args.max_diff_lines if args.max_diff_lines is not None else 200
        report = render_markdown(diff, max_diff_lines=limit, max_chars=args.max_chars)
    else:
        report = render_text(diff, max_diff_lines=args.max_diff_lines)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
        print(f"plan diff written to {args.out}")
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
