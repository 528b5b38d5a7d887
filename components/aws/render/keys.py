"""The customer managed key that encrypts AMIs, snapshots and components."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ...model.errors import RenderError


@dataclass(frozen=True)
class KmsKey:
    """The customer managed key for AMIs, snapshots and components, in every region used.

    identity names the key in content hashes: an immutable object encrypted with
    another key needs another name. arns maps region -> key ARN (an Output in
    the component when the stack creates the key).
    """

    identity: str
    arns: Mapping[str, Any] = field(default_factory=dict)

    def arn(self, region: str) -> Any:
        if region not in self.arns:
            raise RenderError(f"no KMS key for region {region} (have: {', '.join(sorted(self.arns))})")
        return self.arns[region]


def configured_key(key_arn: str, regions: Sequence[str]) -> KmsKey:
    """A key from stack config, in every distribution region.

    A single-Region key encrypts only in its own region. A multi-Region key
    (mrk-...) has the same id in every region it is replicated to, so its ARN
    there is the same ARN with the region replaced.
    """
    parts = key_arn.split(":")
    home, resource = parts[3], parts[5]
    arns: dict[str, Any] = {}
    for region in regions:
        if region == home:
            arns[region] = key_arn
        elif resource.startswith("key/mrk-"):
            arns[region] = ":".join([*parts[:3], region, *parts[4:]])
        else:
            raise RenderError(
                f"aws.kms_key_arn {key_arn} is a single-Region key in {home} and cannot encrypt AMIs in "
                f"{region}; use a multi-Region key (mrk-...) replicated to every distribution region, "
                "or leave kms_key_arn unset so the stack creates one")
    return KmsKey(identity=key_arn, arns=arns)
