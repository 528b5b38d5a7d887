"""Data at risk: what a change deletes, orphans or makes unreadable, for the reviewer to read first.

`data_at_risk` is a pure function of the two plans and their diff. It reports:

- **kms-key**: a KMS key (or replica) removed, replaced or moved to another region, with the
  flavours whose recipes or distributions encrypt AMIs with it: those AMIs become unusable
  once the old key is deleted, its deletion window (30 days) after.
- **protection**: `protect` or `retainOnDelete` turned off: the next removal deletes for real.
- **lifecycle**: an Image Builder lifecycle policy keeps fewer images (COUNT) or keeps them
  for less time (AGE): how many images per flavour its next run deletes.
- **flavour**: a flavour removed (a rename is a removal and an addition): its Azure gallery
  image definition retained outside the state, the SSM parameters Image Builder wrote left
  pointing at its last image (or, when the head retires it in `golden-images:retired`, taken
  over and marked deprecated, or deleted), its AMIs outside every lifecycle policy.
- **undecided**: a flavour removed that the head does not list in `golden-images:retired`:
  the entry to add, exactly.
- **sharing**: an Azure gallery's sharing turned off, or the share command (`az sig share
  reset` on delete) removed or replaced: subscriptions lose access to the images.
- **store**: a resource that holds data (resource group, gallery, image definition, bucket,
  storage account) replaced or removed: its contents go with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .diff import GOLDEN_IMAGE, MISSING, SHARED, PlanDiff, ResourceChange, _groups

KEYS = {"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"}
LIFECYCLE = "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"
RECIPES = {"aws:imagebuilder/imageRecipe:ImageRecipe", "aws:imagebuilder/containerRecipe:ContainerRecipe"}
DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
COMPONENT = "aws:imagebuilder/component:Component"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
GALLERY = "azure-native:compute:Gallery"
GALLERY_IMAGE = "azure-native:compute:GalleryImage"
COMMAND = "command:local:Command"
FLAVOUR_TAG = "golden-images:flavour"
# Resource types whose deletion deletes data, and what.
STORES = {
    "azure-native:resources:ResourceGroup": "every resource in the group (gallery, images, templates) is deleted with it",
    GALLERY: "its image definitions and image versions are deleted with it",
    GALLERY_IMAGE: "its image versions are deleted with it",
    "azure-native:storage:StorageAccount": "its blobs are deleted with it",
    "aws:s3/bucket:Bucket": "its objects are deleted with it",
}
DAYS = {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}

TITLES = {
    "kms-key": "KMS key",
    "protection": "protection off",
    "lifecycle": "retention reduced",
    "flavour": "flavour removed",
    "undecided": "removal not decided",
    "sharing": "gallery sharing reset",
    "store": "data store deleted",
}


@dataclass(frozen=True)
class Risk:
    kind: str  # a key of TITLES
    subject: str  # the resource or flavour concerned
    detail: str  # what happens, one sentence
    flavours: tuple = ()

    @property
    def title(self) -> str:
        return TITLES[self.kind]


def data_at_risk(base: dict, head: dict, diff: PlanDiff) -> list:
    """Every change of `diff` (base -> head) that deletes, orphans or locks away data."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    groups = _groups(base)
    risks: list = []
    risks += _keys(diff, old, groups)
    risks += _protection(diff)
    risks += _lifecycle(diff, old, new, groups)
    removed_flavours = _flavours(base, head, old, groups, risks)
    risks += _sharing(diff, old, new)
    risks += _stores(diff, old, removed_flavours)
    return risks


def _base(change: ResourceChange, old: dict) -> Optional[dict]:
    return old.get(change.old_urn or change.urn)


def _flavour_of(res: dict, groups: dict) -> Optional[str]:
    group = groups.get(res["urn"], SHARED)
    if group != SHARED:
        return group
    tags = (res.get("inputs") or {}).get("tags")
    flavour = tags.get(FLAVOUR_TAG) if isinstance(tags, dict) else None
    return flavour if isinstance(flavour, str) else None


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _names(items) -> str:
    items = list(dict.fromkeys(items))
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else ""


def _keys(diff: PlanDiff, old: dict, groups: dict) -> list:
    risks = []
    for change in diff.changes:
        if change.type not in KEYS or change.action not in ("remove", "replace"):
            continue
        key = _base(change, old)
        if key is None:
            continue
        inputs = key.get("inputs") or {}
        region = inputs.get("region")
        moved = next((c for c in change.inputs if c.path == "region" and c.kind == "changed"), None)
        if moved is not None:
            what = f"moves from {moved.before} to {moved.after}, which replaces it"
        elif change.action == "replace":
            what = "is replaced"
        else:
            what = "is removed"
        users = [r for r in old.values() if key["urn"] in ((r.get("options") or {}).get("dependsOn") or [])]
        flavours = sorted({f for r in users if r["type"] in RECIPES | {DISTRIBUTION}
                           for f in [_flavour_of(r, groups)] if f})
        components = sum(1 for r in users if r["type"] == COMPONENT)
        window = _number(inputs.get("deletionWindowInDays", 30))
        if flavours:
            whose = f"AMIs of {_names(flavours)} encrypted with it"
        else:
            whose = "AMIs encrypted with it (no recipe or distribution of this plan names it)"
        detail = f"{what}: {whose} become unusable once the old key is deleted, {window} days after"
        if components:
            detail += f"; {components} Image Builder components encrypted with it can no longer be read"
        if (key.get("options") or {}).get("protect") and change.action == "remove":
            detail += " (it is protected: the deletion fails until `protect` is lifted)"
        subject = change.old_name or change.name
        risks.append(Risk("kms-key", f"{subject} ({region})" if region else subject, detail, tuple(flavours)))
    return risks


def _protection(diff: PlanDiff) -> list:
    risks = []
    for change in diff.changes:
        if change.action not in ("update", "replace"):
            continue
        for value in change.options:
            if value.before is True and value.after in (False, MISSING):
                group = () if change.group == SHARED else (change.group,)
                if value.path == "options.protect":
                    detail = (f"`protect` turned off on {change.type}: a later change that removes or replaces it "
                              "deletes it without failing first")
                elif value.path == "options.retainOnDelete":
                    detail = (f"`retainOnDelete` turned off on {change.type}: removing it from the code now "
                              "deletes it, and its data, in the cloud")
                else:
                    continue
                risks.append(Risk("protection", change.name, detail, group))
    return risks


def _retention(detail: dict) -> Optional[tuple]:
    """(kind, amount in days or images, label) of a lifecycle rule's filter."""
    flt = detail.get("filter") if isinstance(detail, dict) else None
    if not isinstance(flt, dict) or not isinstance(flt.get("value"), (int, float)):
        return None
    if flt.get("type") == "COUNT":
        count = _number(flt["value"])
        return ("COUNT", flt["value"], "the newest image" if count == "1" else f"the newest {count} images")
    if flt.get("type") == "AGE":
        unit = str(flt.get("unit") or "DAYS").upper()
        label = f"images for {_number(flt['value'])} {unit.lower()}"
        return ("AGE", flt["value"] * DAYS.get(unit, 1), label)
    return None


def _deletes(detail: dict) -> str:
    """What a DELETE rule deletes: `AMIs and snapshots`."""
    action = detail.get("action")
    include = action.get("includeResources") if isinstance(action, dict) else None
    if not isinstance(include, dict):
        return "images"
    labels = [label for key, label in (("amis", "AMIs"), ("snapshots", "snapshots"), ("containers", "container images"))
              if include.get(key)]
    return " and ".join(labels) or "images"


def _lifecycle(diff: PlanDiff, old: dict, new: dict, groups: dict) -> list:
    risks = []
    for change in diff.changes:
        if change.type != LIFECYCLE or change.action not in ("update", "replace"):
            continue
        before, after = _base(change, old), new.get(change.urn)
        if before is None or after is None:
            continue
        flavour = _flavour_of(before, groups)
        per = f"per flavour ({flavour})" if flavour else "per selected recipe"
        old_rules = [d for d in (before.get("inputs") or {}).get("policyDetails") or [] if isinstance(d, dict)]
        new_rules = [d for d in (after.get("inputs") or {}).get("policyDetails") or [] if isinstance(d, dict)]
        for rule in new_rules:
            if (rule.get("action") or {}).get("type") != "DELETE":
                continue  # deprecating or disabling an image keeps it
            previous = next((r for r in old_rules if (r.get("action") or {}).get("type") == "DELETE"), None)
            was, now = _retention(previous) if previous else None, _retention(rule)
            if now is None or was == now:
                continue
            deleted = _deletes(rule)
            if was is None:
                detail = f"a new rule keeps {now[2]}: its next run deletes the older {deleted} {per}"
            elif was[0] == now[0] == "COUNT" and now[1] < was[1]:
                detail = (f"keeps {now[2]} instead of {_number(was[1])}: the next run deletes up to "
                          f"{_number(was[1] - now[1])} {deleted} {per}")
            elif was[0] == now[0] == "AGE" and now[1] < was[1]:
                detail = (f"keeps {now[2]} instead of {was[2].split(' for ', 1)[1]}: the next run deletes the "
                          f"{deleted} {per} older than {now[2].split(' for ', 1)[1]}")
            elif was[0] != now[0]:
                detail = f"keeps {now[2]} instead of {was[2]}: the next run may delete {deleted} {per}"
            else:
                continue
            risks.append(Risk("lifecycle", change.name, detail, (flavour,) if flavour else ()))
    return risks


def _import_hint(image: dict) -> str:
    """How the definition comes back under Pulumi when its flavour's name does (Pulumi cannot know it exists)."""
    inputs = image.get("inputs") or {}
    group, gallery = inputs.get("resourceGroupName", "<resource-group>"), inputs.get("galleryName", "<gallery>")
    definition = inputs.get("galleryImageName", image["name"])
    resource_id = (f"/subscriptions/<subscription-id>/resourceGroups/{group}/providers/Microsoft.Compute/"
                   f"galleries/{gallery}/images/{definition}")
    parent = f" --parent '{image['parent']}'" if image.get("parent") else ""
    return (f"If a flavour named {definition} comes back, list it in `golden-images:azure.adopt` (with "
            "`golden-images:azure.subscription_id`) so that its `pulumi up` imports the definition instead of "
            "creating it. Without that, its first `pulumi up` fails at the definition, which "
            "already exists; then run `pulumi import azure-native:compute:GalleryImage "
            f"{image['name']} '{resource_id}'{parent}` and `pulumi up` again (the definition's create-only "
            "properties must match the flavour's, or delete the definition instead)")


def _retired(plan: dict) -> dict:
    """The plan's retired flavours (its stack output `retired`, golden-images:retired): {flavour: summary}."""
    retired = (plan.get("outputs") or {}).get("retired")
    return {k: v for k, v in retired.items() if isinstance(v, dict)} if isinstance(retired, dict) else {}


def retire_entry(flavour: str, stack: str, added: list) -> str:
    """The golden-images:retired entry that decides a removal, as YAML on one line."""
    replaced_by = f", replaced_by: {added[0]}" if len(added) == 1 else ""
    return (f"add to Pulumi.{stack}.yaml `golden-images:retired: [{{flavour: {flavour}, reason: <why, for its "
            f"consumers>{replaced_by}}}]`")


def _undecided(flavour: str, stack: str, added: list) -> Risk:
    entry = retire_entry(flavour, stack, added)
    return Risk("undecided", flavour, (
        f"flavour {flavour} is removed but not listed in golden-images:retired, so nothing decides what "
        f"consumers of its images see: {entry}; its SSM parameters are then taken over and marked deprecated "
        "(or deleted, with `ssm_parameter: delete`). If it was renamed by mistake, restore its name instead"),
        (flavour,))


def _retired_parameters(flavour: str, summary: dict, was: Optional[dict]) -> list:
    """What the head does to a retired flavour's SSM parameters, when that is new (not in the base)."""
    aws = summary.get("aws") if isinstance(summary.get("aws"), dict) else None
    if aws is None:
        return []
    before = (was or {}).get("aws") if isinstance((was or {}).get("aws"), dict) else {}
    fate = aws.get("ssm_parameter")
    if before and before.get("ssm_parameter") == fate:
        return []
    replaced = summary.get("replaced_by")
    instead = f"; consumers move to flavour {replaced}" if replaced else ""
    risks = []
    for region, name in sorted((aws.get("ssm_parameters") or {}).items()):
        if fate == "delete":
            detail = (f"the SSM parameter {name} ({region}) is deleted (golden-images:retired, ssm_parameter: delete): "
                      f"instances, launch templates and stacks that still resolve it fail{instead}")
        else:
            detail = (f"the SSM parameter {name} ({region}) is taken over and marked deprecated "
                      "(golden-images:retired): it keeps its value, the last image built, which is no longer "
                      f"patched{instead}; set `ssm_parameter: delete` once they have")
        risks.append(Risk("flavour", flavour, detail, (flavour,)))
    return risks


def _uncovered(flavour: str, members: list, summary: dict) -> list:
    """Regions where the base's distribution wrote the flavour's parameter but the retired entry does not reach."""
    aws = summary.get("aws") if isinstance(summary.get("aws"), dict) else {}
    covered = set((aws.get("ssm_parameters") or {}) if aws else ())
    written: dict = {}
    for dist in (r for r in members if r["type"] == DISTRIBUTION):
        for entry in (dist.get("inputs") or {}).get("distributions") or []:
            for ssm in (entry or {}).get("ssmParameterConfigurations") or []:
                if isinstance(ssm, dict) and ssm.get("parameterName") and entry.get("region"):
                    written[entry["region"]] = ssm["parameterName"]
    missing = [region for region in written if region not in covered]
    if not missing:
        return []
    regions = ", ".join(sorted(set(written) | covered))
    return [Risk("undecided", flavour, (
        f"the SSM parameter {written[region]} ({region}) that Image Builder wrote is not reached by its "
        f"golden-images:retired entry: add `regions: [{regions}]` to it"), (flavour,)) for region in missing]


def _flavours(base: dict, head: dict, old: dict, groups: dict, risks: list) -> set:
    """Flavours of the base that the head no longer has; appends their risks. Returns their names."""
    before = [r["name"] for r in base.get("resources", []) if r["type"] == GOLDEN_IMAGE]
    after = {r["name"] for r in head.get("resources", []) if r["type"] == GOLDEN_IMAGE}
    added = sorted(after - set(before))
    removed = [name for name in before if name not in after]
    retired, retired_before = _retired(head), _retired(base)
    stack = head.get("stack") or base.get("stack") or "<stack>"
    for flavour in removed:
        if flavour not in retired:
            risks.append(_undecided(flavour, stack, added))
    for flavour, summary in retired.items():
        risks.extend(_retired_parameters(flavour, summary, retired_before.get(flavour)))
    for flavour in removed:
        members = [r for r in old.values() if groups.get(r["urn"]) == flavour]
        label = flavour if not added else f"{flavour} (added: {_names(added)}; a rename is a removal and an addition)"
        decided = flavour in retired
        for image in (r for r in members if r["type"] == GALLERY_IMAGE):
            inputs = image.get("inputs") or {}
            name = f"{inputs.get('galleryImageName', image['name'])} in gallery {inputs.get('galleryName', '?')}"
            if (image.get("options") or {}).get("retainOnDelete"):
                detail = (f"the Azure gallery image definition {name} is retained outside the Pulumi state, with "
                          "its image versions: nothing deletes or updates them; delete them by hand or import them. "
                          + _import_hint(image))
            else:
                detail = f"the Azure gallery image definition {name} is deleted, with its image versions"
            risks.append(Risk("flavour", label, detail, (flavour,)))
        if decided:
            risks.extend(_uncovered(flavour, members, retired[flavour]))
        for dist in (r for r in members if r["type"] == DISTRIBUTION and not decided):
            for entry in (dist.get("inputs") or {}).get("distributions") or []:
                for ssm in (entry or {}).get("ssmParameterConfigurations") or []:
                    if isinstance(ssm, dict) and ssm.get("parameterName"):
                        region = entry.get("region", "?")
                        risks.append(Risk("flavour", label, (
                            f"the SSM parameter {ssm['parameterName']} ({region}) that Image "
                            "Builder writes keeps pointing at the last image built: consumers keep launching it, "
                            "unpatched; once they have moved, delete it so the stragglers fail loudly: "
                            f"`aws ssm delete-parameter --region {region} --name {ssm['parameterName']}`"), (flavour,)))
        for param in (r for r in members if r["type"] == SSM_PARAMETER):
            inputs = param.get("inputs") or {}
            risks.append(Risk("flavour", label, (
                f"the SSM parameter {inputs.get('name', param['name'])} ({inputs.get('region', '?')}) is deleted: "
                "consumers that read it fail"), (flavour,)))
        policies = [r for r in members if r["type"] == LIFECYCLE]
        has_aws = any(r["type"] in RECIPES for r in members)
        if policies:
            names = _names((p.get("inputs") or {}).get("name", p["name"]) for p in policies)
            risks.append(Risk("flavour", label, (
                f"its AMIs and snapshots fall outside every lifecycle policy ({names} removed): they stay, "
                "and are billed, until deleted by hand"), (flavour,)))
        elif has_aws:
            risks.append(Risk("flavour", label, (
                "its AMIs and snapshots were under no lifecycle policy: they stay, and are billed, until deleted "
                "by hand"), (flavour,)))
    return set(removed)


def _sharing(diff: PlanDiff, old: dict, new: dict) -> list:
    risks = []
    for change in diff.changes:
        before = _base(change, old)
        if before is None:
            continue
        if change.type == GALLERY and change.action in ("update", "replace"):
            was = _permissions(before)
            now = _permissions(new.get(change.urn))
            if was not in (None, "Private") and now in (None, "Private"):
                name = (before.get("inputs") or {}).get("galleryName", change.name)
                risks.append(Risk("sharing", change.name, (
                    f"gallery {name} stops sharing ({was} -> {now or 'none'}): the subscriptions and tenants it "
                    "was shared with lose access to its images, and VMs there cannot be recreated from them")))
        elif change.type == COMMAND and "az sig share reset" in str((before.get("inputs") or {}).get("delete", "")):
            if change.action == "remove":
                subs = [str(s) for s in (before.get("inputs") or {}).get("triggers") or []]
                risks.append(Risk("sharing", change.name, (
                    f"the gallery share is reset: subscriptions {_names(subs) or '(none listed)'} lose access to "
                    "its images")))
            elif change.action == "replace":
                after = new.get(change.urn) or {}
                gone = [str(s) for s in (before.get("inputs") or {}).get("triggers") or []
                        if s not in ((after.get("inputs") or {}).get("triggers") or [])]
                detail = "the gallery share is reset and then added again: every shared subscription loses access meanwhile"
                if gone:
                    detail += f", and {_names(gone)} for good"
                risks.append(Risk("sharing", change.name, detail))
    return risks


def _permissions(res: Optional[dict]) -> Optional[str]:
    profile = ((res or {}).get("inputs") or {}).get("sharingProfile")
    value = profile.get("permissions") if isinstance(profile, dict) else None
    return value if isinstance(value, str) else None


def _stores(diff: PlanDiff, old: dict, removed_flavours: set) -> list:
    risks = []
    for change in diff.changes:
        if change.type not in STORES or change.action not in ("remove", "replace"):
            continue
        if change.action == "remove" and change.group in removed_flavours:
            continue  # told with its flavour
        res = _base(change, old) or {}
        options = res.get("options") or {}
        if change.action == "remove" and options.get("retainOnDelete"):
            continue
        why = change.rule or change.reason
        what = "is replaced" + (f" ({why})" if why else "") if change.action == "replace" else "is removed"
        detail = f"{change.type} {what}: {STORES[change.type]}"
        if options.get("protect"):
            detail += "; it is protected, so the deletion fails until `protect` is lifted"
        group = () if change.group == SHARED else (change.group,)
        risks.append(Risk("store", change.old_name or change.name, detail, group))
    return risks
