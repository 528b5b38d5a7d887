"""The Azure VM Image Builder contract (REST API 2024-02-01), checked offline.

What the engine receives for an `azure-native:virtualmachineimages:VirtualMachineImageTemplate`
is reshaped into the body of the `PUT .../imageTemplates/{name}?api-version=2024-02-01`
request the provider sends, then checked in three layers:

1. Shape. Every key must be a field of the API model, following the polymorphic
   discriminators (`type` of sources, customizers, validators and distributors,
   `scheme` of versioning); values must have the model's JSON types; read-only fields
   must not be sent. The API rejects unknown fields and field names are case-sensitive.
   The model is the `_attribute_map` of the azure-mgmt-imagebuilder 1.4.0 models, the
   SDK release for API 2024-02-01.
2. Model constraints. The models' `_validation` (required, pattern, minimum, maximum)
   is evaluated by msrest at every node, so each problem carries its JSON path; as a
   cross-check, the whole body is deserialized with the SDK's own Deserializer and
   msrest's `Model.validate()` must not find anything the per-node pass missed.
3. Rules the SDK models do not carry: the REST spec's `required: [source, distribute]`
   (lost when the SDK flattened `properties`), enums the SDK types as plain strings,
   exclusions the spec only states in descriptions (`targetRegions` vs the deprecated
   `replicationRegions`, `runAsSystem` needs `runElevated`, exactly one of `scriptUri`
   and `inline`), Image Builder's identity rule (one user-assigned identity), and
   project policy (anything downloaded into an image is pinned by a SHA-256 checksum).

Gallery and gallery image definition inputs (`azure-native:compute:Gallery`,
`azure-native:compute:GalleryImage`) are checked against Azure's naming rules and the
image definition identifier rules; a template is cross-checked against the image
definition it distributes to (OS family of its customizers, Hyper-V generation of its
source).

Pure library: no pulumi import. Every check returns a list of `Violation`; an empty
list means the input satisfies the contract.
"""
from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import msrest.serialization as _msrest
from azure.mgmt.imagebuilder import _serialization as _sdk_serialization
from azure.mgmt.imagebuilder import models as _sdk_models
from azure.mgmt.imagebuilder._version import VERSION as SDK_VERSION

API_VERSION = "2024-02-01"
REQUIRED_SDK_VERSION = "1.4.0"
if SDK_VERSION != REQUIRED_SDK_VERSION:  # 2.x targets a later API version: it would check the wrong contract
    raise ImportError(
        f"azure-mgmt-imagebuilder {REQUIRED_SDK_VERSION} (API {API_VERSION}) is required, "
        f"found {SDK_VERSION}; install requirements-dev.txt"
    )

TEMPLATE_TYPE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
GALLERY_TYPE = "azure-native:compute:Gallery"
GALLERY_IMAGE_TYPE = "azure-native:compute:GalleryImage"
IDENTITY_TYPE = "azure-native:managedidentity:UserAssignedIdentity"
RESOURCE_GROUP_TYPE = "azure-native:resources:ResourceGroup"

# azure-native's inputs for a template, by where they go in the REST request.
URL_INPUTS = ("resourceGroupName", "imageTemplateName")
TOP_LEVEL_INPUTS = ("location", "tags", "identity")
PROPERTY_INPUTS = (
    "source",
    "customize",
    "optimize",
    "validate",
    "distribute",
    "errorHandling",
    "buildTimeoutInMinutes",
    "vmProfile",
    "stagingResourceGroup",
    "autoRun",
    "managedResourceTags",
)

# azure-native picks a random suffix when a name input is left out (autonaming).
AUTONAME_SUFFIX_LENGTH = 8

# --- patterns ---------------------------------------------------------------
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9-_.]{1,64}$")  # ImageTemplateNameParameter in the REST spec
RUN_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9-_.]{1,64}$")  # the SDK's ImageTemplateDistributor checks it
# Azure naming rules (Microsoft.Compute) and the Compute API's own error message:
# galleries: 1-80, alphanumerics, underscores and periods, start and end alphanumeric (no hyphens);
# galleries/images: 1-80, alphanumerics, underscores, hyphens and periods, start and end alphanumeric.
GALLERY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9])?$")
GALLERY_IMAGE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$")
# Image definition identifier: alphanumerics, periods, hyphens, underscores, not ending with a period;
# publisher up to 128 characters, offer and sku up to 64.
IDENTIFIER_PART = re.compile(r"^[A-Za-z0-9._-]+$")
IDENTIFIER_MAX = {"publisher": 128, "offer": 64, "sku": 64}
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# restartTimeout is "a string of magnitude and unit, e.g. '5m' (5 minutes) or '2h' (2 hours)".
DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$")
PLATFORM_VERSION = re.compile(r"^(?:latest|[0-9]+\.[0-9]+\.[0-9]+)$")
VM_SIZE = re.compile(r"^(?:Standard|Basic)_[A-Za-z0-9_]+$")
_SUB = r"/subscriptions/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_RG = r"/resourceGroups/[-\w._()]{0,89}[-\w_()]"
RESOURCE_GROUP_ID = re.compile(rf"^{_SUB}{_RG}$")
IDENTITY_ID = re.compile(rf"^{_SUB}{_RG}/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[A-Za-z0-9][A-Za-z0-9_-]{{2,127}}$", re.I)
GALLERY_IMAGE_ID = re.compile(
    rf"^(?P<sub>{_SUB})/resourceGroups/(?P<rg>[-\w._()]{{0,89}}[-\w_()])"
    r"/providers/Microsoft\.Compute/galleries/(?P<gallery>[^/]+)/images/(?P<image>[^/]+)"
    r"(?:/versions/(?P<version>[0-9]+\.[0-9]+\.[0-9]+))?$",
    re.I,
)
IMAGE_VERSION_ID = re.compile(
    rf"^{_SUB}{_RG}/providers/Microsoft\.Compute/galleries/[^/]+/images/[^/]+/versions/(?:latest|[0-9]+\.[0-9]+\.[0-9]+)$", re.I
)
MANAGED_IMAGE_ID = re.compile(rf"^{_SUB}{_RG}/providers/Microsoft\.Compute/images/[^/]+$", re.I)
SUBNET_ID = re.compile(
    rf"^{_SUB}{_RG}/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$", re.I
)

# --- enums the SDK types as plain strings -----------------------------------
STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")
ON_BUILD_ERROR = ("cleanup", "abort")
ON_OFF_STATES = ("Enabled", "Disabled")
CUSTOMIZER_TYPES = ("Shell", "PowerShell", "WindowsRestart", "WindowsUpdate", "File")
VALIDATOR_TYPES = ("Shell", "PowerShell", "File")
DISTRIBUTOR_TYPES = ("SharedImage", "ManagedImage", "VHD")
# Which OS family each customizer/validator runs on (Packer provisioner semantics).
WINDOWS_ONLY = ("PowerShell", "WindowsRestart", "WindowsUpdate")
LINUX_ONLY = ("Shell",)
OS_TYPES = ("Windows", "Linux")
HYPER_V_GENERATIONS = ("V1", "V2")
ARCHITECTURES = ("x64", "Arm64")
# Gallery image security types that only exist for Generation 2 (UEFI) images.
GEN2_SECURITY_TYPES = (
    "TrustedLaunch",
    "TrustedLaunchSupported",
    "TrustedLaunchAndConfidentialVmSupported",
    "ConfidentialVM",
    "ConfidentialVmSupported",
)
OS_DISK_MAX_GB = 4095  # largest Azure managed OS disk
MAX_TAGS = 50
TAG_KEY_MAX, TAG_VALUE_MAX = 512, 256
TAG_KEY_FORBIDDEN = re.compile(r"[<>%&\\?/]")


@dataclass(frozen=True)
class Violation:
    """One way an input breaks the contract: where (JSON path), which rule, and why."""

    path: str
    rule: str
    message: str
    model_target: str = ""  # "Class.attribute" when the rule is one of the SDK model's own constraints

    def __str__(self) -> str:
        return f"{self.path or '<body>'}: {self.message} [{self.rule}]"


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _json_number(value: Any) -> Any:
    """Pulumi sends every number as a float; JSON has one number type, so 240.0 is 240."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_number(v) for v in value]
    return value


def _drop_none(value: Any) -> Any:
    """Inputs left unset (or unknown) are not sent."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# azure-native inputs -> REST body
# ---------------------------------------------------------------------------
def reshape(inputs: dict, default_location: Optional[str] = None) -> dict:
    """The REST body azure-native PUTs for a VirtualMachineImageTemplate registration.

    azure-native's inputs are flat: `source`, `customize`, `distribute`, ... go under
    `properties`; `resourceGroupName` and `imageTemplateName` are URL parts; the identity's
    `userAssignedIdentities` is a list of ids that becomes a map of id -> {}. An input
    azure-native does not have stays at the top, where the checker reports it. Without a
    `location` input the provider uses the resource group's location (`default_location`).
    """
    data = _json_number(_drop_none(dict(inputs)))
    body: dict = {}
    properties: dict = {}
    for key, value in data.items():
        if key in URL_INPUTS:
            continue
        if key in PROPERTY_INPUTS:
            properties[key] = value
        elif key == "identity":
            body["identity"] = _identity_body(value)
        else:
            body[key] = value
    if "location" not in body and default_location:
        body["location"] = default_location
    body["properties"] = properties
    return body


def _identity_body(identity: Any) -> Any:
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        return {**identity, "userAssignedIdentities": {rid: {} for rid in identity["userAssignedIdentities"]}}
    return identity


def template_name(inputs: dict, logical_name: str = "") -> tuple[str, bool]:
    """The template's Azure name and whether azure-native picks it (autonaming)."""
    name = inputs.get("imageTemplateName")
    if isinstance(name, str):
        return name, False
    return logical_name, True


# ---------------------------------------------------------------------------
# Layer 1 and 2: the SDK models' shape and constraints
# ---------------------------------------------------------------------------
_CLASSES: dict[str, type] = {
    name: cls
    for name, cls in vars(_sdk_models).items()
    if isinstance(cls, type) and issubclass(cls, _sdk_serialization.Model) and cls is not _sdk_serialization.Model
}
_LABELS = {
    "ImageTemplateSource": "source",
    "ImageTemplateCustomizer": "customizer",
    "ImageTemplateInVMValidator": "in-VM validator",
    "ImageTemplateDistributor": "distributor",
    "DistributeVersioner": "versioning",
}
_BASIC = {"str": str, "bool": bool, "int": int, "float": (int, float), "iso-8601": str, "object": object}
_DROP = object()


def _field_tree(cls: type) -> dict:
    """JSON key -> (attribute, type) or a nested tree for flattened keys such as properties.source."""
    tree: dict = {}
    for attr, desc in cls._attribute_map.items():
        if not desc["key"]:
            continue
        parts = [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", desc["key"])]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = (attr, desc["type"])
    return tree


def _lookup(value: dict, key: str) -> Any:
    parts = [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", key)]
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _basic_ok(value: Any, typ: str) -> bool:
    expected = _BASIC.get(typ)
    if expected is None:
        return True
    if typ in ("int", "float") and isinstance(value, bool):
        return False
    return isinstance(value, expected)


def _readonly(cls: type, attr: str) -> bool:
    return bool(cls._validation.get(attr, {}).get("readonly"))


def subtypes(base: str) -> dict[str, str]:
    """Discriminator value -> model class name for a polymorphic base model."""
    cls = _CLASSES[base]
    (attr,) = cls.__dict__["_subtype_map"].keys()
    return cls._flatten_subtype(attr, _CLASSES)


class _Walk:
    """Walks a body against the models; collects violations and a copy without the bad parts."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, path: str, rule: str, message: str, target: str = "") -> None:
        self.violations.append(Violation(path, rule, message, target))

    def value(self, value: Any, typ: str, path: str) -> Any:
        if typ.startswith("[") and typ.endswith("]"):
            if not isinstance(value, list):
                self.add(path, "type", f"must be a list, got {type(value).__name__}")
                return _DROP
            items = (self.value(item, typ[1:-1], f"{path}[{index}]") for index, item in enumerate(value))
            return [item for item in items if item is not _DROP]
        if typ.startswith("{") and typ.endswith("}"):
            if not isinstance(value, dict):
                self.add(path, "type", f"must be an object, got {type(value).__name__}")
                return _DROP
            out = {}
            for key, item in value.items():
                checked = self.value(item, typ[1:-1], f"{path}[{key!r}]")
                if checked is not _DROP:
                    out[key] = checked
            return out
        if typ in _CLASSES:
            return self.model(value, _CLASSES[typ], path)
        if not _basic_ok(value, typ):
            shown = {"str": "string", "int": "integer", "bool": "boolean"}.get(typ, typ)
            self.add(path, "type", f"must be a {shown}, got {type(value).__name__} {value!r}")
            return _DROP
        return value

    def model(self, value: Any, cls: type, path: str) -> Any:
        if not isinstance(value, dict):
            self.add(path, "type", f"must be an object ({cls.__name__}), got {type(value).__name__}")
            return _DROP
        resolved = self.resolve(value, cls, path)
        if resolved is None:
            return _DROP
        out = self.fields(value, _field_tree(resolved), resolved, path)
        self.constraints(value, resolved, path)
        return out

    def resolve(self, value: dict, cls: type, path: str) -> Optional[type]:
        own = cls.__dict__.get("_subtype_map")
        if not own:
            return cls
        (attr,) = own.keys()
        key = cls._attribute_map[attr]["key"]
        kinds = subtypes(cls.__name__)
        label = _LABELS.get(cls.__name__, cls.__name__)
        kind = value.get(key)
        if kind is None:
            self.add(_key(path, key), "required", f"a {label} needs '{key}' (one of {', '.join(kinds)})")
            return None
        if kind not in kinds:
            self.add(_key(path, key), "unknown-type", f"unknown {label} {key} {kind!r} (API {API_VERSION} has {', '.join(kinds)})")
            return None
        return _CLASSES[kinds[kind]]

    def fields(self, value: dict, tree: dict, cls: type, path: str) -> dict:
        out = {}
        for key, item in value.items():
            spec = tree.get(key)
            where = _key(path, key)
            if spec is None:
                writable = sorted(k for k, v in tree.items() if isinstance(v, dict) or not _readonly(cls, v[0]))
                self.add(
                    where,
                    "unknown-field",
                    f"{key!r} is not a field of {cls.__name__} in API {API_VERSION} "
                    f"(fields: {', '.join(writable)}); the API rejects unknown fields",
                )
                continue
            if isinstance(spec, dict):
                if not isinstance(item, dict):
                    self.add(where, "type", f"must be an object, got {type(item).__name__}")
                    continue
                out[key] = self.fields(item, spec, cls, where)
                continue
            attr, typ = spec
            if _readonly(cls, attr):
                self.add(where, "read-only", f"{key!r} is read-only (set by the service) and must not be sent")
                continue
            checked = self.value(item, typ, where)
            if checked is not _DROP:
                out[key] = checked
        return out

    def constraints(self, value: dict, cls: type, path: str) -> None:
        """The model's `_validation`, evaluated by msrest's Serializer.validate node by node."""
        for attr, rules in cls._validation.items():
            if rules.get("readonly") or attr not in cls._attribute_map:
                continue
            desc = cls._attribute_map[attr]
            raw = _lookup(value, desc["key"])
            if raw is not None and not _basic_ok(raw, desc["type"]):
                continue  # already reported as a type problem
            target = f"{cls.__name__}.{attr}"
            try:
                _msrest.Serializer.validate(raw, target, **rules)
            except _msrest.ValidationError as err:
                where = _key(path, desc["key"].replace("\\.", "."))
                self.add(where, err.rule, _model_message(err.rule, rules, raw), target)


def _model_message(rule: str, rules: dict, raw: Any) -> str:
    if rule == "required":
        return "is required"
    return f"{raw!r} breaks the model's {rule} {rules.get(rule)!r}"


def _checked_classes() -> dict[str, type]:
    """The SDK's model classes, each also an msrest Model so `.validate()` is msrest's."""
    checked = {}
    for name, cls in _CLASSES.items():
        namespace = {"__module__": __name__, "__doc__": cls.__doc__}
        if "_subtype_map" in cls.__dict__:
            namespace["_subtype_map"] = cls.__dict__["_subtype_map"]
        checked[name] = type(name, (cls, _msrest.Model), namespace)
    return checked


_CHECKED = _checked_classes()


def sdk_model(body: dict):
    """The body deserialized by the SDK's own (case-sensitive) Deserializer into ImageTemplate."""
    deserializer = _sdk_serialization.Deserializer(_CHECKED)
    return deserializer("ImageTemplate", copy.deepcopy(body))


def sdk_validate(body: dict) -> list:
    """msrest's verdict on the whole body: `Model.validate()` of the deserialized ImageTemplate.

    Called unbound: ImageTemplate's `validate` attribute is the template's `properties.validate`.
    """
    return _msrest.Model.validate(sdk_model(body))


def _shape(body: Any) -> tuple[list[Violation], Any]:
    walk = _Walk()
    sanitized = walk.model(body, _CLASSES["ImageTemplate"], "")
    return walk.violations, sanitized


def _sdk_cross_check(sanitized: Any, located: list[Violation]) -> list[Violation]:
    """Anything msrest's whole-model validate() finds that the per-node pass did not locate."""
    if sanitized is _DROP:
        return []
    try:
        errors = sdk_validate(sanitized)
    except _sdk_serialization.DeserializationError as err:
        return [Violation("", "deserialize", f"the SDK cannot deserialize the body: {err}")]
    seen = Counter((v.rule, v.model_target) for v in located if v.model_target)
    missed = []
    for err in errors:
        if seen[(err.rule, err.target)]:
            seen[(err.rule, err.target)] -= 1
        else:
            missed.append(Violation(f"<{err.target}>", err.rule, f"msrest: {err}", err.target))
    return missed


# ---------------------------------------------------------------------------
# Layer 3: rules the models do not carry
# ---------------------------------------------------------------------------
def _enum(value: Any, allowed: Iterable[str], path: str, what: str) -> list[Violation]:
    allowed = tuple(allowed)
    if isinstance(value, str) and value not in allowed:
        return [Violation(path, "enum", f"{what} {value!r} is not one of {', '.join(allowed)} (case-sensitive)")]
    return []


def _https(value: Any, path: str) -> list[Violation]:
    if isinstance(value, str) and not re.match(r"^https://[^\s/]+/\S*$", value):
        return [Violation(path, "uri", f"{value!r} must be an https:// URL (project policy: no plain-text downloads)")]
    return []


def _nonempty(container: dict, key: str, path: str, why: str) -> list[Violation]:
    value = container.get(key)
    if value is None or (isinstance(value, (str, list, dict)) and not value):
        return [Violation(_key(path, key), "required", why)]
    return []


def check_tags(tags: Any, path: str) -> list[Violation]:
    """Azure Resource Manager tag limits."""
    if not isinstance(tags, dict):
        return []
    found = []
    if len(tags) > MAX_TAGS:
        found.append(Violation(path, "tags", f"{len(tags)} tags; Azure allows at most {MAX_TAGS}"))
    for key, value in tags.items():
        where = f"{path}[{key!r}]"
        if not 1 <= len(key) <= TAG_KEY_MAX or TAG_KEY_FORBIDDEN.search(key):
            found.append(Violation(where, "tags", f"tag name {key!r} must be 1-{TAG_KEY_MAX} characters without < > % & \\ ? /"))
        if isinstance(value, str) and len(value) > TAG_VALUE_MAX:
            found.append(Violation(where, "tags", f"tag value is {len(value)} characters; at most {TAG_VALUE_MAX}"))
    return found


def _script_rules(item: dict, path: str) -> list[Violation]:
    """Shell and PowerShell customizers and validators."""
    found = []
    uri, inline = item.get("scriptUri"), item.get("inline")
    has_uri = isinstance(uri, str) and uri != ""
    has_inline = isinstance(inline, list) and len(inline) > 0
    if has_uri == has_inline:
        found.append(Violation(path, "script", "exactly one of 'scriptUri' or 'inline' must be given"))
    checksum = item.get("sha256Checksum")
    if has_uri:
        found += _https(uri, _key(path, "scriptUri"))
        if not checksum:
            found.append(
                Violation(_key(path, "sha256Checksum"), "checksum-policy",
                          "a downloaded script must be pinned by its SHA-256 checksum (project policy)")
            )
    elif checksum:
        found.append(Violation(_key(path, "sha256Checksum"), "checksum-without-uri",
                               "sha256Checksum applies to the script in 'scriptUri' only"))
    if isinstance(checksum, str) and checksum and not SHA256.match(checksum):
        found.append(Violation(_key(path, "sha256Checksum"), "sha256", f"{checksum!r} is not a hex SHA-256 digest"))
    if item.get("type") == "PowerShell" and item.get("runAsSystem") is True and item.get("runElevated") is not True:
        found.append(Violation(_key(path, "runAsSystem"), "run-as-system", "runAsSystem can only be true when runElevated is true"))
    return found


def _file_rules(item: dict, path: str) -> list[Violation]:
    found = _nonempty(item, "sourceUri", path, "a File step needs the URL of the file (sourceUri)")
    found += _nonempty(item, "destination", path, "a File step needs the absolute path to write to (destination)")
    found += _https(item.get("sourceUri"), _key(path, "sourceUri"))
    destination = item.get("destination")
    if isinstance(destination, str) and destination and not re.match(r"^(/|[A-Za-z]:[\\/])", destination):
        found.append(Violation(_key(path, "destination"), "destination", f"{destination!r} must be an absolute path"))
    checksum = item.get("sha256Checksum")
    if not checksum:
        found.append(Violation(_key(path, "sha256Checksum"), "checksum-policy",
                               "a downloaded file must be pinned by its SHA-256 checksum (project policy)"))
    elif isinstance(checksum, str) and not SHA256.match(checksum):
        found.append(Violation(_key(path, "sha256Checksum"), "sha256", f"{checksum!r} is not a hex SHA-256 digest"))
    return found


def _step_rules(item: Any, path: str, allowed: tuple) -> list[Violation]:
    if not isinstance(item, dict) or item.get("type") not in allowed:
        return []  # missing or unknown types are reported by the shape pass
    kind = item["type"]
    found = []
    if kind in ("Shell", "PowerShell"):
        found += _script_rules(item, path)
    elif kind == "File":
        found += _file_rules(item, path)
    elif kind == "WindowsRestart":
        timeout = item.get("restartTimeout")
        if isinstance(timeout, str) and not DURATION.match(timeout):
            found.append(Violation(_key(path, "restartTimeout"), "duration",
                                   f"{timeout!r} is not a magnitude and unit such as '5m' or '2h'"))
    return found


def _distributor_rules(item: Any, path: str) -> list[Violation]:
    if not isinstance(item, dict) or item.get("type") not in DISTRIBUTOR_TYPES:
        return []
    found = check_tags(item.get("artifactTags"), _key(path, "artifactTags"))
    kind = item["type"]
    if kind == "SharedImage":
        image_id = item.get("galleryImageId")
        if isinstance(image_id, str) and not GALLERY_IMAGE_ID.match(image_id):
            found.append(Violation(_key(path, "galleryImageId"), "resource-id",
                                   f"{image_id!r} is not the resource id of a gallery image definition"))
        targets, replication = item.get("targetRegions"), item.get("replicationRegions")
        if targets is not None and replication is not None:
            found.append(Violation(path, "target-regions-exclusive",
                                   "targetRegions can be given only if replicationRegions is not"))
        if replication is not None:
            found.append(Violation(_key(path, "replicationRegions"), "deprecated",
                                   "replicationRegions is deprecated in API 2024-02-01; use targetRegions"))
        if item.get("storageAccountType") is not None:
            found += _enum(item["storageAccountType"], STORAGE_ACCOUNT_TYPES, _key(path, "storageAccountType"), "storage account type")
            if replication is None:
                found.append(Violation(_key(path, "storageAccountType"), "storage-account-type",
                                       "storageAccountType can be given only with replicationRegions; "
                                       "set it per entry of targetRegions"))
        if isinstance(targets, list):
            names = Counter()
            for index, region in enumerate(targets):
                where = f"{path}.targetRegions[{index}]"
                if not isinstance(region, dict):
                    continue
                found += _enum(region.get("storageAccountType"), STORAGE_ACCOUNT_TYPES,
                               _key(where, "storageAccountType"), "storage account type")
                name = region.get("name")
                if isinstance(name, str):
                    if not name.strip():
                        found.append(Violation(_key(where, "name"), "required", "region name must not be empty"))
                    names[name.lower().replace(" ", "")] += 1
            for name, count in names.items():
                if count > 1:
                    found.append(Violation(_key(path, "targetRegions"), "unique-region", f"region {name!r} is listed {count} times"))
    elif kind == "ManagedImage":
        image_id = item.get("imageId")
        if isinstance(image_id, str) and not MANAGED_IMAGE_ID.match(image_id):
            found.append(Violation(_key(path, "imageId"), "resource-id", f"{image_id!r} is not a managed image resource id"))
        found += _nonempty(item, "location", path, "a ManagedImage distributor needs a location")
    elif kind == "VHD":
        found += _https(item.get("uri"), _key(path, "uri")) if item.get("uri") else []
    return found


def _source_rules(source: Any, path: str) -> list[Violation]:
    if not isinstance(source, dict):
        return []
    found = []
    kind = source.get("type")
    if kind == "PlatformImage":
        for key in ("publisher", "offer", "sku", "version"):
            found += _nonempty(source, key, path, f"a platform image source needs {key}")
        version = source.get("version")
        if isinstance(version, str) and version and not PLATFORM_VERSION.match(version):
            found.append(Violation(_key(path, "version"), "version", f"{version!r} is neither 'latest' nor x.y.z"))
    elif kind == "ManagedImage":
        image_id = source.get("imageId")
        if isinstance(image_id, str) and not MANAGED_IMAGE_ID.match(image_id):
            found.append(Violation(_key(path, "imageId"), "resource-id", f"{image_id!r} is not a managed image resource id"))
    elif kind == "SharedImageVersion":
        version_id = source.get("imageVersionId")
        if isinstance(version_id, str) and not IMAGE_VERSION_ID.match(version_id):
            found.append(Violation(_key(path, "imageVersionId"), "resource-id",
                                   f"{version_id!r} is not a gallery image version resource id"))
    return found


def _identity_rules(identity: Any) -> list[Violation]:
    if not isinstance(identity, dict):
        return []  # missing: the model's own required rule reports it
    found = []
    kind = identity.get("type")
    if kind is None:
        found.append(Violation("identity.type", "required", "Image Builder needs identity type 'UserAssigned'"))
    elif kind != "UserAssigned":
        found.append(Violation("identity.type", "identity-type",
                               f"Image Builder needs a 'UserAssigned' identity, not {kind!r} (case-sensitive)"))
    identities = identity.get("userAssignedIdentities")
    if not isinstance(identities, dict) or len(identities) != 1:
        count = len(identities) if isinstance(identities, dict) else 0
        found.append(Violation("identity.userAssignedIdentities", "identity-count",
                               f"Image Builder needs exactly one user-assigned identity, got {count}"))
    if isinstance(identities, dict):
        for rid in identities:
            if not IDENTITY_ID.match(rid):
                found.append(Violation(f"identity.userAssignedIdentities[{rid!r}]", "resource-id",
                                       "not the resource id of a user-assigned managed identity"))
    return found


def _property_rules(props: dict) -> list[Violation]:
    found = []
    path = "properties"
    if props.get("source") is None:
        found.append(Violation("properties.source", "required", "an image template needs a source (REST spec: required)"))
    distribute = props.get("distribute")
    if distribute is None:
        found.append(Violation("properties.distribute", "required", "an image template needs distribute targets (REST spec: required)"))
    elif isinstance(distribute, list) and not distribute:
        found.append(Violation("properties.distribute", "min-items", "at least one distribution target is needed"))
    found += _source_rules(props.get("source"), "properties.source")
    for index, item in enumerate(props.get("customize") or [] if isinstance(props.get("customize"), list) else []):
        found += _step_rules(item, f"properties.customize[{index}]", CUSTOMIZER_TYPES)
    validate = props.get("validate")
    if isinstance(validate, dict) and isinstance(validate.get("inVMValidations"), list):
        for index, item in enumerate(validate["inVMValidations"]):
            found += _step_rules(item, f"properties.validate.inVMValidations[{index}]", VALIDATOR_TYPES)
    if isinstance(distribute, list):
        outputs = Counter()
        for index, item in enumerate(distribute):
            found += _distributor_rules(item, f"properties.distribute[{index}]")
            if isinstance(item, dict) and isinstance(item.get("runOutputName"), str):
                outputs[item["runOutputName"]] += 1
        for name, count in outputs.items():
            if count > 1:
                found.append(Violation("properties.distribute", "run-output-name-unique",
                                       f"runOutputName {name!r} is used {count} times; each names one run output"))
    handling = props.get("errorHandling")
    if isinstance(handling, dict):
        for key in ("onCustomizerError", "onValidationError"):
            found += _enum(handling.get(key), ON_BUILD_ERROR, f"{path}.errorHandling.{key}", key)
    optimize = props.get("optimize")
    if isinstance(optimize, dict) and isinstance(optimize.get("vmBoot"), dict):
        found += _enum(optimize["vmBoot"].get("state"), ON_OFF_STATES, f"{path}.optimize.vmBoot.state", "vmBoot state")
    auto_run = props.get("autoRun")
    if isinstance(auto_run, dict):
        found += _enum(auto_run.get("state"), ON_OFF_STATES, f"{path}.autoRun.state", "autoRun state")
    found += _vm_profile_rules(props.get("vmProfile"), f"{path}.vmProfile")
    staging = props.get("stagingResourceGroup")
    if isinstance(staging, str) and staging and not RESOURCE_GROUP_ID.match(staging):
        found.append(Violation(f"{path}.stagingResourceGroup", "resource-id",
                               f"{staging!r} is not a resource group id (/subscriptions/<id>/resourceGroups/<name>)"))
    found += check_tags(props.get("managedResourceTags"), f"{path}.managedResourceTags")
    return found


def _vm_profile_rules(profile: Any, path: str) -> list[Violation]:
    if not isinstance(profile, dict):
        return []
    found = []
    size = profile.get("osDiskSizeGB")
    if isinstance(size, int) and not isinstance(size, bool) and size > OS_DISK_MAX_GB:
        found.append(Violation(_key(path, "osDiskSizeGB"), "maximum", f"{size} GB is larger than an Azure OS disk ({OS_DISK_MAX_GB} GB)"))
    vm_size = profile.get("vmSize")
    if isinstance(vm_size, str) and vm_size and not VM_SIZE.match(vm_size):
        found.append(Violation(_key(path, "vmSize"), "vm-size", f"{vm_size!r} is not a VM size such as Standard_D2ds_v5"))
    for index, rid in enumerate(profile.get("userAssignedIdentities") or []):
        if isinstance(rid, str) and not IDENTITY_ID.match(rid):
            found.append(Violation(f"{path}.userAssignedIdentities[{index}]", "resource-id",
                                   "not the resource id of a user-assigned managed identity"))
    vnet = profile.get("vnetConfig")
    if isinstance(vnet, dict):
        for key in ("subnetId", "containerInstanceSubnetId"):
            value = vnet.get(key)
            if isinstance(value, str) and value and not SUBNET_ID.match(value):
                found.append(Violation(f"{path}.vnetConfig.{key}", "resource-id", f"{value!r} is not a subnet resource id"))
        if vnet.get("containerInstanceSubnetId") and not vnet.get("subnetId"):
            found.append(Violation(f"{path}.vnetConfig.containerInstanceSubnetId", "vnet",
                                   "containerInstanceSubnetId can be given only with subnetId"))
        if vnet.get("containerInstanceSubnetId") and vnet.get("proxyVmSize"):
            found.append(Violation(f"{path}.vnetConfig.proxyVmSize", "vnet",
                                   "proxyVmSize must not be given with containerInstanceSubnetId (no proxy VM then)"))
    return found


def _top_rules(body: dict) -> list[Violation]:
    found = []
    location = body.get("location")
    if isinstance(location, str) and not location.strip():
        found.append(Violation("location", "required", "location must not be empty"))
    found += _identity_rules(body.get("identity"))
    found += check_tags(body.get("tags"), "tags")
    props = body.get("properties")
    if isinstance(props, dict):
        found += _property_rules(props)
    elif props is None:
        found.append(Violation("properties", "required", "an image template needs properties (source, distribute)"))
    return found


# ---------------------------------------------------------------------------
# Public checks
# ---------------------------------------------------------------------------
def check_template_name(name: str, autonamed: bool = False) -> list[Violation]:
    if autonamed:
        # azure-native appends a random alphanumeric suffix to the logical name.
        probe = name + "x" * AUTONAME_SUFFIX_LENGTH
        if not TEMPLATE_NAME.match(probe):
            return [Violation("imageTemplateName", "pattern",
                              f"auto-named from {name!r} (+{AUTONAME_SUFFIX_LENGTH} characters), which breaks "
                              f"{TEMPLATE_NAME.pattern}")]
        return []
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        return [Violation("imageTemplateName", "pattern", f"{name!r} breaks the template name pattern {TEMPLATE_NAME.pattern}")]
    return []


def check_template_body(body: Any) -> list[Violation]:
    """Every way a REST body for PUT imageTemplates breaks API 2024-02-01 (and project policy)."""
    if not isinstance(body, dict):
        return [Violation("", "type", f"the body must be an object, got {type(body).__name__}")]
    located, sanitized = _shape(body)
    return located + _sdk_cross_check(sanitized, located) + _top_rules(body)


def check_template(inputs: dict, logical_name: str = "", default_location: Optional[str] = None) -> list[Violation]:
    """Check a VirtualMachineImageTemplate registration's inputs: the body and the name."""
    name, autonamed = template_name(inputs, logical_name)
    return check_template_name(name, autonamed) + check_template_body(reshape(inputs, default_location))


def _check_name(name: Any, pattern: re.Pattern, path: str, what: str, rule_text: str, autonamed: bool = False) -> list[Violation]:
    if not isinstance(name, str):
        return [Violation(path, "required", f"{what} name is missing")]
    probe = name + "x" * AUTONAME_SUFFIX_LENGTH if autonamed else name
    if pattern.match(probe):
        return []
    how = f"auto-named from {name!r} (+{AUTONAME_SUFFIX_LENGTH} characters)" if autonamed else repr(name)
    hint = ""
    if "-" in name and "hyphen" in rule_text:
        hint = "; hyphens are not allowed"
    return [Violation(path, "name", f"{what} name {how} breaks Azure's rule: {rule_text}{hint}")]


def check_gallery_name(name: Any, autonamed: bool = False, path: str = "galleryName") -> list[Violation]:
    return _check_name(name, GALLERY_NAME, path, "gallery",
                       "1-80 letters, digits, underscores and periods, starting and ending with a letter or digit "
                       "(no hyphens)", autonamed)


def check_gallery_image_name(name: Any, autonamed: bool = False, path: str = "galleryImageName") -> list[Violation]:
    return _check_name(name, GALLERY_IMAGE_NAME, path, "gallery image definition",
                       "1-80 letters, digits, hyphens, underscores and periods, starting and ending with a letter or digit",
                       autonamed)


def check_gallery(inputs: dict, logical_name: str = "") -> list[Violation]:
    """An azure-native:compute:Gallery registration's inputs."""
    name = inputs.get("galleryName")
    found = check_gallery_name(name if name is not None else logical_name, autonamed=name is None)
    found += check_tags(inputs.get("tags"), "tags")
    sharing = inputs.get("sharingProfile")
    if isinstance(sharing, dict):
        found += _enum(sharing.get("permissions"), ("Private", "Groups", "Community"), "sharingProfile.permissions", "permissions")
    return found


def check_gallery_image(inputs: dict, logical_name: str = "") -> list[Violation]:
    """An azure-native:compute:GalleryImage registration's inputs (an image definition)."""
    name = inputs.get("galleryImageName")
    found = check_gallery_image_name(name if name is not None else logical_name, autonamed=name is None)
    found += check_gallery_name(inputs.get("galleryName"), path="galleryName")
    identifier = inputs.get("identifier")
    if not isinstance(identifier, dict):
        found.append(Violation("identifier", "required", "an image definition needs identifier {publisher, offer, sku}"))
    else:
        for key, limit in IDENTIFIER_MAX.items():
            value = identifier.get(key)
            where = f"identifier.{key}"
            if not isinstance(value, str) or not value:
                found.append(Violation(where, "required", f"identifier needs {key}"))
            elif len(value) > limit:
                found.append(Violation(where, "length", f"{key} is {len(value)} characters; at most {limit}"))
            elif not IDENTIFIER_PART.match(value) or value.endswith("."):
                found.append(Violation(where, "identifier",
                                       f"{value!r}: letters, digits, hyphens, underscores and periods, not ending with a period"))
        unknown = sorted(set(identifier) - set(IDENTIFIER_MAX))
        for key in unknown:
            found.append(Violation(f"identifier.{key}", "unknown-field", f"{key!r} is not a field of the identifier"))
    os_type = inputs.get("osType")
    if os_type is None:
        found.append(Violation("osType", "required", "an image definition needs osType"))
    found += _enum(os_type, OS_TYPES, "osType", "osType")
    os_state = inputs.get("osState")
    if os_state != "Generalized":
        found.append(Violation("osState", "os-state",
                               f"Image Builder distributes generalized images: osState must be 'Generalized', got {os_state!r}"))
    generation = inputs.get("hyperVGeneration")
    found += _enum(generation, HYPER_V_GENERATIONS, "hyperVGeneration", "hyperVGeneration")
    found += _enum(inputs.get("architecture"), ARCHITECTURES, "architecture", "architecture")
    for index, feature in enumerate(inputs.get("features") or []):
        if not isinstance(feature, dict):
            continue
        name, value = feature.get("name"), feature.get("value")
        if isinstance(name, str) and name.lower() == "securitytype" and isinstance(value, str):
            if value.lower() in {t.lower() for t in GEN2_SECURITY_TYPES} and (generation or "V1") != "V2":
                found.append(Violation(f"features[{index}]", "trusted-launch-needs-v2",
                                       f"security type {value!r} needs hyperVGeneration 'V2' (got {generation or 'V1 (default)'!r})"))
    found += check_tags(inputs.get("tags"), "tags")
    return found


# ---------------------------------------------------------------------------
# Cross-checks between a template and the image definition it distributes to
# ---------------------------------------------------------------------------
def parse_gallery_image_id(value: Any) -> Optional[dict]:
    """{sub, rg, gallery, image, version} of a gallery image (definition or version) id."""
    if not isinstance(value, str):
        return None
    match = GALLERY_IMAGE_ID.match(value)
    return match.groupdict() if match else None


def distributed_images(body: dict) -> list[tuple[str, dict]]:
    """(path, parsed id) of every SharedImage distributor's galleryImageId."""
    found = []
    distribute = (body.get("properties") or {}).get("distribute")
    for index, item in enumerate(distribute if isinstance(distribute, list) else []):
        if isinstance(item, dict) and item.get("type") == "SharedImage":
            parsed = parse_gallery_image_id(item.get("galleryImageId"))
            if parsed:
                found.append((f"properties.distribute[{index}].galleryImageId", parsed))
    return found


def same_image(parsed: dict, image_inputs: dict, logical_name: str = "") -> bool:
    """Whether a parsed gallery image id names this GalleryImage registration (ARM names are case-insensitive)."""
    name = image_inputs.get("galleryImageName") or logical_name
    return (
        str(parsed["rg"]).lower() == str(image_inputs.get("resourceGroupName", "")).lower()
        and str(parsed["gallery"]).lower() == str(image_inputs.get("galleryName", "")).lower()
        and str(parsed["image"]).lower() == str(name).lower()
    )


def expected_generation(source: Any) -> Optional[str]:
    """The Hyper-V generation a platform image source boots as, when its SKU says so."""
    if not isinstance(source, dict) or source.get("type") != "PlatformImage":
        return None
    sku = str(source.get("sku", "")).lower()
    offer = str(source.get("offer", "")).lower()
    publisher = str(source.get("publisher", "")).lower()
    if re.search(r"gen1$", sku):
        return "V1"
    if re.search(r"(?:^|[-_])(?:g2|gen2)$", sku):
        return "V2"
    # Canonical's ubuntu-NN_NN-lts offers: 'server' (and -arm64, minimal) are Gen2, '*-gen1' are Gen1.
    if publisher == "canonical" and re.match(r"^ubuntu-[0-9]{2}_[0-9]{2}(?:-lts)?", offer):
        return "V2"
    return None


def check_template_against_image(body: dict, image_inputs: dict) -> list[Violation]:
    """A template's customizers and source against the image definition it publishes to."""
    found = []
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    os_type = image_inputs.get("osType")
    steps = [(f"properties.customize[{i}]", s) for i, s in enumerate(props.get("customize") or [])]
    validate = props.get("validate") if isinstance(props.get("validate"), dict) else {}
    steps += [(f"properties.validate.inVMValidations[{i}]", s) for i, s in enumerate(validate.get("inVMValidations") or [])]
    for path, step in steps:
        kind = step.get("type") if isinstance(step, dict) else None
        if os_type == "Linux" and kind in WINDOWS_ONLY:
            found.append(Violation(_key(path, "type"), "os-mismatch", f"{kind} runs on Windows; the image definition is Linux"))
        if os_type == "Windows" and kind in LINUX_ONLY:
            found.append(Violation(_key(path, "type"), "os-mismatch", f"{kind} runs on Linux; the image definition is Windows"))
    expected = expected_generation(props.get("source"))
    actual = image_inputs.get("hyperVGeneration") or "V1"
    if expected and expected != actual:
        found.append(Violation("properties.source.sku", "generation-mismatch",
                               f"source SKU {props['source'].get('sku')!r} boots as {expected}; "
                               f"the image definition is {actual}"))
    return found
