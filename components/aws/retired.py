"""A retired flavour on AWS: its SSM parameters taken over and marked deprecated, or deleted."""
from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from ..model.settings import AwsSettings, RetiredFlavour
from ..model.vocabulary import AWS_RETIRED_TYPE
from . import render


class AwsRetiredFlavour(pulumi.ComponentResource):
    """What a removed flavour leaves in Parameter Store, decided (golden-images:retired)."""

    def __init__(self, entry: RetiredFlavour, *, settings: AwsSettings, tags: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(AWS_RETIRED_TYPE, entry.flavour, None, opts)
        name = render.parameter_name(settings, entry.flavour)
        self.parameters: dict[str, Any] = {}
        for region in render.retired_regions(entry, settings):
            if entry.ssm_parameter == "deprecate":
                # The value the parameter holds now (Image Builder's last distribution), written back
                # unchanged: consumers keep launching the same image, now marked deprecated. An AMI id is
                # no secret: `insecure_value` keeps it readable in `pulumi preview` (`value` is always secret).
                current = aws.ssm.get_parameter_output(name=name, region=region,
                                                       opts=pulumi.InvokeOutputOptions(parent=self))
                parameter = aws.ssm.Parameter(
                    f"{entry.flavour}-ssm-{region}",
                    insecure_value=current.insecure_value,
                    **render.deprecated_parameter_args(entry, settings, region, tags),
                    # Left in place when the entry goes (the flavour comes back and Image Builder writes
                    # it again, or `delete` takes over): never deleted by surprise.
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
                )
                self.parameters[region] = parameter.name
            else:
                command.local.Command(
                    f"{entry.flavour}-ssm-delete-{region}",
                    create=render.delete_parameter_command(entry, settings, region),
                    triggers=[name, region],
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.parameters[region] = name
        self.summary = {
            "ssm_parameter": entry.ssm_parameter,
            "ssm_parameters": {region: name for region in self.parameters},
        }
        self.register_outputs({"summary": self.summary})
