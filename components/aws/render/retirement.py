"""What a retired flavour's SSM parameters become: taken over and marked deprecated, or deleted.

Image Builder's distribution writes `<prefix>/<flavour>/latest` in every region
(ssmParameterConfigurations), outside the Pulumi state: removing the flavour leaves the
parameter pointing at its last, never again patched, image. A retired flavour's program
takes the parameter over instead (docs/aws.md, "Retiring a flavour"):

- `deprecate` (the default): an `aws.ssm.Parameter` with `overwrite` (PutParameter's
  Overwrite; pulumi-aws 7.51.1 still has it) writes the value the parameter holds, read at
  deploy time, back with a description and tags that say it is deprecated and what replaces
  it. Instances and Auto Scaling groups that resolve it keep launching the same image: no
  fleet breaks by surprise, and the parameter's new version and description are visible to
  whoever looks. The data type stays `aws:ec2:image`: Parameter Store cannot change a
  parameter to or from that data type, and validates the value (an AMI available in the
  account) asynchronously, so only a real AMI id, the current one, may be written.
- `delete`: a command deletes the parameter, so that whatever still reads it fails loudly.
"""
from __future__ import annotations

import shlex
from typing import Any

from ...model.settings import AwsSettings, RetiredFlavour
from .distribution import parameter_name
from .names import TAG_LIMIT, checked_tags

# PutParameter: Description, 0-1024 characters.
DESCRIPTION_LIMIT = 1024
RETIRED_TAG = "golden-images:retired"
REPLACED_BY_TAG = "golden-images:replaced-by"


def retired_regions(entry: RetiredFlavour, aws: AwsSettings) -> list[str]:
    """The regions the flavour's parameter is in: the entry's, else the stack's distribution regions."""
    return list(entry.regions) or aws.regions


def deprecation_description(entry: RetiredFlavour, aws: AwsSettings) -> str:
    instead = (f" Use {parameter_name(aws, entry.replaced_by)} (flavour {entry.replaced_by}) instead."
               if entry.replaced_by else "")
    text = (f"DEPRECATED: flavour {entry.flavour} is retired: {entry.reason}.{instead} This parameter keeps the "
            "last image built, which is no longer rebuilt or patched.")
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 3] + "..."


def deprecated_parameter_args(entry: RetiredFlavour, aws: AwsSettings, region: str,
                              stack_tags: dict[str, str]) -> dict[str, Any]:
    """aws.ssm.Parameter's arguments (all but `value`, the current value read at deploy time)."""
    tags = {**stack_tags, "golden-images:flavour": entry.flavour, RETIRED_TAG: "deprecated"}
    if entry.replaced_by:
        tags[REPLACED_BY_TAG] = parameter_name(aws, entry.replaced_by)
    return {
        "name": parameter_name(aws, entry.flavour),
        "type": "String",
        # Parameter Store cannot change a parameter to or from aws:ec2:image: it stays one.
        "data_type": "aws:ec2:image",
        "overwrite": True,
        "description": deprecation_description(entry, aws),
        "tags": checked_tags(tags, TAG_LIMIT, f"retired flavour '{entry.flavour}' SSM parameter"),
        "region": region,
    }


def delete_parameter_command(entry: RetiredFlavour, aws: AwsSettings, region: str) -> str:
    """Deletes the parameter; succeeds when it is gone afterwards (deleted now or before), fails otherwise."""
    name, where = shlex.quote(parameter_name(aws, entry.flavour)), shlex.quote(region)
    return (f"aws ssm delete-parameter --region {where} --name {name} "
            f"|| ! aws ssm get-parameter --region {where} --name {name} >/dev/null 2>&1")
