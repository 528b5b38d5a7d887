"""Secret references: where a secret lives, never what it is.

A step parameter of type `secret` takes, per cloud, the name of a secret that the build
machine reads with its own identity while the step runs:

    api_key:
      secret:
        aws: secretsmanager:datadog/api-key            # or ssm:/agents/datadog/api-key, or an ARN
        azure: https://contoso-kv.vault.azure.net/secrets/datadog-api-key

Only the reference travels in documents, templates and plans. The program grants the
build identity exactly the read of each secret referenced (components/aws/render/policies.py,
components/azure/shared.py) and the step's script reads it with the helpers in
components/steps/lib/secrets.sh|.ps1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

CLOUDS = ("aws", "azure")

# Secrets Manager secret names: 1-512 of letters, digits and /_+=.@- (CreateSecret's Name).
_SM_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"
# SSM parameter names: letters, digits and _.-/ (PutParameter's Name); hierarchical here.
_SSM_NAME = r"/[A-Za-z0-9_./-]{1,1010}"
_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b)?"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]"
_AWS_FORMS = {
    "secretsmanager-name": re.compile(rf"secretsmanager:(?P<name>{_SM_NAME})"),
    # A complete ARN ends in the hyphen and six characters Secrets Manager appends.
    "secretsmanager-arn": re.compile(
        rf"arn:(?P<partition>{_PARTITION}):secretsmanager:(?P<region>{_REGION}):(?P<account>[0-9]{{12}}):"
        rf"secret:(?P<name>{_SM_NAME})-[A-Za-z0-9]{{6}}"),
    "ssm-name": re.compile(rf"ssm:(?P<name>{_SSM_NAME})"),
    "ssm-arn": re.compile(
        rf"arn:(?P<partition>{_PARTITION}):ssm:(?P<region>{_REGION}):(?P<account>[0-9]{{12}}):"
        rf"parameter(?P<name>{_SSM_NAME})"),
}
# Key Vault: vault names are 3-24 letters, digits and hyphens, starting with a letter, ending
# with a letter or digit, no two hyphens in a row; secret names 1-127 letters, digits and
# hyphens; a version is 32 hex digits.
_VAULT = r"[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){2,23}"
_KEY_VAULT = re.compile(
    rf"https://(?P<vault>{_VAULT})\.vault\.azure\.net/secrets/(?P<name>[0-9a-zA-Z-]{{1,127}})(?:/(?P<version>[0-9a-f]{{32}}))?")

EXAMPLE = {"aws": "secretsmanager:<name>", "azure": "https://<vault>.vault.azure.net/secrets/<name>"}


@dataclass(frozen=True)
class SecretRef:
    """One cloud's reference, parsed."""

    cloud: str  # aws | azure
    store: str  # secretsmanager | ssm | keyvault
    reference: str  # as written: what the build machine's script is given
    name: str  # secret name, parameter name (/a/b) or Key Vault secret name
    arn: Optional[str] = None  # AWS: the ARN as written, when an ARN was written
    vault: Optional[str] = None  # Azure: the vault's name (lower case)

    @property
    def vault_secret_scope(self) -> str:
        """The part of a role assignment scope below the vault's resource id."""
        return f"/secrets/{self.name}"


def parse(cloud: str, text: Any) -> SecretRef:
    """The reference `text` for `cloud`; ValueError says what is wrong (never the value)."""
    if not isinstance(text, str):
        raise ValueError(f"must be a reference string, got {type(text).__name__}")
    if cloud == "aws":
        for form, pattern in _AWS_FORMS.items():
            match = pattern.fullmatch(text)
            if match is None:
                continue
            name = match.group("name")
            if form.startswith("ssm") and (name.startswith("/aws/") or "//" in name or name.endswith("/")):
                raise ValueError(f"'{text}' is not a parameter of this account (/aws/ is AWS's public namespace; "
                                 "no empty path segments)")
            return SecretRef(cloud="aws", store=form.split("-")[0], reference=text, name=name,
                             arn=text if form.endswith("arn") else None)
        raise ValueError(
            f"'{_shown(text)}' is not an AWS secret reference: write secretsmanager:<name>, ssm:/<parameter path>, "
            "a complete Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>) "
            "or an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<path>)")
    if cloud == "azure":
        match = _KEY_VAULT.fullmatch(text)
        if match is None:
            raise ValueError(f"'{_shown(text)}' is not a Key Vault secret URI: write "
                             "https://<vault>.vault.azure.net/secrets/<name>[/<32-hex version>]")
        return SecretRef(cloud="azure", store="keyvault", reference=text, name=match.group("name"),
                         vault=match.group("vault").lower())
    raise ValueError(f"unknown cloud '{cloud}' (clouds: {', '.join(CLOUDS)})")


def _shown(text: str) -> str:
    """A refused reference, shown only when it cannot be a pasted secret (it has a scheme or
    prefix of a reference); anything else is shown as <value>."""
    if re.match(r"^(secretsmanager:|ssm:|arn:|https?://)", text) and len(text) <= 300:
        return text
    return "<value not shown>"


def is_reference_value(value: Any) -> bool:
    """True for the flavour-side form `{secret: {...}}` (valid or not)."""
    return isinstance(value, dict) and set(value) == {"secret"}


def reference_yaml(key: str, clouds: Iterable[str] = CLOUDS) -> str:
    """The exact YAML to write for a secret reference parameter, on one line."""
    entries = ", ".join(f'{cloud}: "{EXAMPLE[cloud]}"' for cloud in clouds)
    return f"{key}: {{secret: {{{entries}}}}}"


def value_problems(key: str, value: Any, clouds: Iterable[str]) -> list[tuple[str, str]]:
    """(sub-path, message) for every fault of a secret parameter's value; `clouds` are the clouds
    the step runs on for this flavour (each needs a reference)."""
    clouds = list(clouds)
    if not is_reference_value(value):
        return [("", "takes a secret reference, not a value (the value would be in every document and plan): "
                     f"write {reference_yaml(key, clouds or CLOUDS)}; the build machine reads it with its own "
                     "identity")]
    refs = value["secret"]
    if not isinstance(refs, dict) or not refs:
        return [(".secret", "must map clouds to references, e.g. " + reference_yaml(key, clouds or CLOUDS))]
    problems: list[tuple[str, str]] = []
    for cloud, text in refs.items():
        if cloud not in CLOUDS:
            problems.append((f".secret.{cloud}", f"unknown cloud (clouds: {', '.join(CLOUDS)})"))
            continue
        if cloud not in clouds:
            problems.append((f".secret.{cloud}", f"this step does not run on {cloud} for this flavour "
                                                 "(its base_image, options.only_on or when.cloud); remove it"))
            continue
        try:
            parse(cloud, text)
        except ValueError as err:
            problems.append((f".secret.{cloud}", str(err)))
    for cloud in clouds:
        if cloud not in refs:
            other = next((c for c in CLOUDS if c != cloud), "")
            problems.append((".secret", f"no reference for {cloud}, where this step runs (base_image.{cloud}): add "
                                        f'{cloud}: "{EXAMPLE[cloud]}", or give the step options.only_on: {other}'))
    return problems


def reference_of(value: Any, cloud: str) -> Optional[SecretRef]:
    """A validated secret parameter's reference on `cloud`, or None."""
    if not is_reference_value(value) or not isinstance(value["secret"], dict):
        return None
    text = value["secret"].get(cloud)
    return parse(cloud, text) if text is not None else None


def references_in(params: dict[str, Any], secret_keys: Iterable[str], cloud: str) -> Iterator[tuple[str, SecretRef]]:
    """(variable or parameter name, reference) of every secret a step's parameters name on `cloud`:
    the `secret` parameters and each entry of a `secrets` parameter."""
    for key in secret_keys:
        value = params.get(key)
        ref = reference_of(value, cloud)
        if ref is not None:
            yield key, ref
            continue
        if isinstance(value, dict) and not is_reference_value(value):
            for name in sorted(value):
                ref = reference_of(value[name], cloud)
                if ref is not None:
                    yield name, ref


def secrets_on(builds: Iterable[Any], cloud: str) -> list[SecretRef]:
    """Every secret a step of these builds (FlavourBuild) reads on `cloud`, once each, in order."""
    found = {ref.reference: ref for build in builds for step in build.steps_on(cloud) for _, ref in step.secrets}
    return [found[key] for key in sorted(found)]
