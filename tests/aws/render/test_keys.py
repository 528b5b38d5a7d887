"""The stack's KMS key, per region."""
from __future__ import annotations

import pytest

from components.aws import render


class TestKeys:
    def test_configured_key_per_region(self):
        mrk = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
        key = render.configured_key(mrk, ["eu-west-1", "us-east-1"])
        assert key.arn("us-east-1") == mrk.replace("eu-west-1", "us-east-1")
        assert key.identity == mrk
        single = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        assert render.configured_key(single, ["eu-west-1"]).arn("eu-west-1") == single
        with pytest.raises(render.RenderError, match="single-Region key in eu-west-1 .* us-east-1"):
            render.configured_key(single, ["eu-west-1", "us-east-1"])

