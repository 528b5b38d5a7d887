"""The difference between two offline plans: resources added, replaced, updated in place, removed.

`diff_plans` is a pure function of two plan dicts (the JSON that `make plan` writes).

Matching rules, in order:
1. Same URN in both plans: the same resource. Changed inputs are an update in
   place, unless Pulumi would replace it: a changed input is listed in the
   resource's `replaceOnChanges` option, the resource type cannot be
   updated at all (EC2 Image Builder components, recipes and workflows: only
   their tags can change in place), or the provider cannot change that input
   in place (create_only.py: CloudFormation's `createOnlyProperties` as
   cfn-lint ships them, a pulumi-aws resource's `region`, an Azure resource's
   names, resource group and location). The reason names the inputs.
2. Immutable cloud objects carry a content hash in their names (DESIGN.md,
   decision 2), so a changed script gives a resource with a new name, and
   where the name is also the resource's Pulumi name, a new URN. A removed
   and an added resource are the same *role*, replaced, when they have the
   same type, the same parent and names that differ only in hash tokens: a
   run of 6-16 lower-case hex characters with at least one digit and one
   letter, standing alone between separators (`-`, `_`, `.`, `/`, `:`), e.g.
   `golden-images-dev-os-updates-linux-209b713c8e`. A run of digits alone is
   a number, not a hash: `web-1` -> `web-2` or `app-20240101` ->
   `app-20250101` is a rename, shown as a removal and an addition (the old
   object is deleted), never as the same resource replaced.
3. Everything else is added or removed.

A changed input that only follows another resource's new name (a pipeline's
recipe ARN, a recipe's component ARNs) is marked as such, so the causes of a
replacement stand out.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .create_only import CreateOnly

GOLDEN_IMAGE = "golden-images:index:GoldenImage"
# What a retired flavour leaves (golden-images:retired) is listed under the flavour's name too.
RETIRED = "golden-images:aws:RetiredFlavour"
SHARED = "shared"

# A content hash inside a name or value: hex, 6-16 characters, at least one digit and one letter,
# not part of a longer word. Digits alone (a date, a counter, an account id) are never a hash: a
# name that differs in them is another resource. (A real 10-character hash is all digits about
# once in a hundred; that change then shows as an addition and a removal, the safe mistake.)
_HASH_TOKEN = re.compile(
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
        return self.kind == "changed" and (texty(self.before) or texty(self.after))


@dataclass
class ResourceChange:
    """A resource added, replaced, updated in place or removed."""

    action: str  # add | adopt | replace | update | remove (adopt: added by importing an existing resource)
    type: str
    name: str  # the head's name; the base's for a removal
    group: str  # the flavour (GoldenImage) it belongs to, or "shared"
    custom: bool
    old_name: Optional[str] = None  # replace: the base's name
    inputs: list = field(default_factory=list)  # ValueChange
    options: list = field(default_factory=list)  # ValueChange
    reason: str = ""
    rule: str = ""  # same URN, yet replaced: why Pulumi replaces instead of updating
    urn: str = ""  # the head's URN; the base's for a removal
    old_urn: str = ""  # the base's URN of a replaced (or updated) resource
    adopts: str = ""  # adopt: the id of the existing cloud resource `pulumi up` imports

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
    risks: list = field(default_factory=list)  # risk.Risk: data a change deletes or orphans
    redacted: bool = False  # values the secret scanner flags are masked (redact.py)

    def counts(self, group: Optional[str] = None) -> dict:
        """Cloud resources (not components) per action, of one group or of all."""
        counts = {"add": 0, "replace": 0, "update": 0, "remove": 0}
        for change in self.changes:
            if (group is None or change.group == group) and change.custom:
                # "adopt" only appears when something is adopted (imported instead of created).
                counts[change.action] = counts.get(change.action, 0) + 1
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


def _change(action: str, res: dict, groups: dict, **fields: Any) -> ResourceChange:
    """A change of `res` (the head's resource; the base's for a removal): type, name, group and URN are its own."""
    return ResourceChange(action=action, type=res["type"], name=res["name"], group=groups.get(res["urn"], SHARED),
                          custom=bool(res.get("custom")), urn=res["urn"], **fields)


def _removal_reason(res: dict) -> str:
    options = res.get("options") or {}
    if options.get("protect"):
        return "protected: the deletion will fail until `protect` is lifted"
    if options.get("retainOnDelete"):
        return "retainOnDelete: left in the cloud, outside the state"
    return ""


def diff_plans(base: dict, head: dict, base_label: str = "base", head_label: str = "head",
               create_only: Optional[CreateOnly] = None) -> PlanDiff:
    """Compare two plans (the JSON `make plan` writes): what changes from base to head.

    `create_only` says which inputs replace a resource when they change; by default the
    CloudFormation schemas cfn-lint ships, read only for the types whose resources changed."""
    create_only = create_only if create_only is not None else CreateOnly()
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
            # Pulumi orders operations by dependsOn but never updates a resource for it alone.
            if not inputs and all(_ordering_only(c.path) for c in options):
                unchanged += 1 if after.get("custom") else 0
                continue
            forced = _forced_replacement(after, inputs)
            immutable = _immutable_changes(after, inputs)
            fixed = [] if forced or immutable else create_only.forced(after, [c.path for c in inputs])
            if forced:
                rule = f"replaceOnChanges [{', '.join((after.get('options') or {}).get('replaceOnChanges') or [])}]"
            elif immutable:
                rule = f"{IMMUTABLE[after['type']][0]} cannot be updated in place"
            elif fixed:
                rule = _create_only_rule(fixed)
            else:
                rule = ""
            reason = f"{rule}; {_replace_reason(inputs)}" if rule else ""
            action = "replace" if forced or immutable or fixed else "update"
            changes.append(_change(action, after, new_groups, inputs=inputs, options=options, reason=reason, rule=rule,
                                   old_urn=urn))
    for before, after in pairs:
        inputs = diff_values(before.get("inputs", {}), after.get("inputs", {}), renames=renames)
        options = diff_values(_options(before, urn_renames), _options(after, {}), path="options", renames=renames)
        reason = _replace_reason(inputs)
        changes.append(_change("replace", after, new_groups, old_name=before["name"], inputs=inputs, options=options,
                               reason=reason, old_urn=before["urn"]))
    for res in added:
        if id(res) not in paired_new:
            inputs = [ValueChange(k, MISSING, v) for k, v in sorted(res.get("inputs", {}).items())]
            adopts = str((res.get("options") or {}).get("import") or "")
            reason = (f"adopts existing {adopts}: `pulumi up` imports it instead of creating it (the import "
                      "fails unless its create-only properties match these inputs)") if adopts else ""
            changes.append(_change("adopt" if adopts else "add", res, new_groups, inputs=inputs, reason=reason,
                                   adopts=adopts))
    for res in removed:
        if id(res) not in paired_old:
            changes.append(_change("remove", res, old_groups, reason=_removal_reason(res), old_urn=res["urn"]))
    rank = {"replace": 0, "update": 1, "add": 2, "adopt": 2, "remove": 3}
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
    from .risk import data_at_risk  # risk.py reads the diff's types: imported once both exist

    diff.risks = data_at_risk(base, head, diff)
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


def _create_only_rule(forced: list) -> str:
    """`create-only: region (pulumi-aws: the region it lives in)`, sources grouped."""
    by_source: dict = {}
    for item in forced:
        by_source.setdefault(item.source, []).append(item.path)
    return "create-only: " + "; ".join(f"{', '.join(paths)} ({source})" for source, paths in by_source.items())


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
    if isinstance(before, list) and isinstance(after, list) and not (scalars(before) and scalars(after)):
        return _diff_lists(before, after, path, renames)
    return [ValueChange(path, before, after, derived=_only_renamed(before, after, renames))]


def _diff_lists(before: list, after: list, path: str, renames: dict) -> list:
    """Align list items (so an inserted region is one addition, not every later item changed)."""
    matcher = difflib.SequenceMatcher(a=[canonical(x) for x in before], b=[canonical(x) for x in after], autojunk=False)
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


def scalars(items: list) -> bool:
    return all(not isinstance(x, (dict, list)) for x in items)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _only_renamed(before: Any, after: Any, renames: dict) -> bool:
    """True when `after` is `before` with replaced resources' names (content hashes) swapped."""
    if before is MISSING or after is MISSING:
        return False
    text_before, text_after = canonical(before), canonical(after)
    for old, new in sorted(renames.items(), key=lambda kv: -len(kv[0])):
        text_before = text_before.replace(old, new)
    if text_before == text_after:
        return True
    # Ids the engine derives from a replaced resource's name carry their own short hashes. Only
    # short values (ids, ARNs) get this benefit of the doubt: in a script, a changed hex token is
    # a real change (a pinned commit, a checksum) and must show as one.
    if not renames or texty(before) or texty(after):
        return False
    return _HASH_TOKEN.sub("#", text_before) == _HASH_TOKEN.sub("#", text_after)


def _ordering_only(path: str) -> bool:
    """An option change that only orders operations (`dependsOn`): no provider call, no state change."""
    return path == "options.dependsOn" or path.startswith(("options.dependsOn[", "options.dependsOn."))


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
    flavour = {r["urn"]: r["name"] for r in resources if r["type"] in (GOLDEN_IMAGE, RETIRED)}
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


def texty(value: Any) -> bool:
    """Shown as text lines (a script, a long list of them) rather than as one value."""
    if isinstance(value, str):
        return "\n" in value or len(value) > TEXT_THRESHOLD
    if isinstance(value, list) and value and scalars(value):
        return any(isinstance(x, str) and "\n" in x for x in value) or len(canonical(value)) > TEXT_THRESHOLD
    return False
