"""The build instance reads only the product's SSM parameters, AWS's public ones and those its steps name.

Facts: AmazonSSMManagedInstanceCore (which Image Builder requires on build instances for
the SSM agent) allows ssm:GetParameter and ssm:GetParameters on "*"; in IAM policy
evaluation an explicit Deny overrides every Allow; a parameter's ARN is
arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading slash>.
"""
from __future__ import annotations

from components.aws import render


def test_parameters_named_by_step_parameters_are_found_at_any_depth():
    params = [{"token": "ssm:/platform/octopus/api-key", "nested": {"list": [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/platform/datadog"]}, "url": "https://example.com"}]
    assert render.ssm_parameter_names(params) == ["/platform/datadog", "/platform/octopus/api-key"]


def test_the_deny_spares_the_prefix_the_public_parameters_and_the_named_ones_in_the_regions_partition():
    policy = render.ssm_read_guard_policy("/images", "cn-north-1", ["/platform/token"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and "Resource" not in statement
    assert {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"} <= set(statement["Action"])
    assert statement["NotResource"] == [
        "arn:aws-cn:ssm:*:*:parameter/images", "arn:aws-cn:ssm:*:*:parameter/images/*",
        "arn:aws-cn:ssm:*:*:parameter/aws/service/*", "arn:aws-cn:ssm:*:*:parameter/platform/token"]
