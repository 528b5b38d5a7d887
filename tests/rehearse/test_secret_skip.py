"""A step that reads a secret is listed as skipped in a rehearsal, with the reason: the read
needs the cloud build machine's identity, which a local rehearsal has not."""
from __future__ import annotations

from components.rehearse.plan import plan_actions
from components.rehearse.source import load_rehearsal
from tests.conftest import ProjectCopy
from tests.samples import SECRET_TEAM_FLAVOUR, SECRET_VAULT_ID


def test_steps_reading_secrets_are_skipped_with_the_reason(tmp_path):
    project = ProjectCopy(tmp_path)
    project.write_flavour("feed-consumer.yaml", SECRET_TEAM_FLAVOUR)
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace(
        "    keep_failed_vm: true\n",
        f"    keep_failed_vm: true\n    key_vaults:\n      contoso-kv: {SECRET_VAULT_ID}\n", 1))
    rehearsal = load_rehearsal("dev", "feed-consumer", tmp_path)
    assert rehearsal.cloud == "aws"
    actions = {(a.step, a.phase): a for a in plan_actions(rehearsal)}
    script = actions[("script", "build")]
    assert script.script is None
    assert script.skip_reason == ("reads secretsmanager:golden-images/feed-token with the aws build machine's "
                                  "identity (instance profile / managed identity), which a rehearsal does not have")
    assert actions[("datadog-agent", "build")].skip_reason.startswith("reads ssm:/agents/datadog/api-key with the aws")
    # Its check is not run as if the build had happened.
    assert actions[("script", "validate")].skip_reason.startswith("its build is not rehearsed: reads ")
    # Steps that read nothing still run.
    assert actions[("os-updates", "build")].skip_reason is None
