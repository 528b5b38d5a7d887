"""A flavour that reads secrets passes every guardrail make plan enforces: the template identity
still holds only the factory's custom roles (GI-AZ-003) and nothing in its documents or
customizers looks like a secret (GI-SECRET-001): references and the reading helpers are not."""
from __future__ import annotations

import pytest

from policy.offline import enforce
from tests.conftest import ProjectCopy
from tests.samples import SECRET_TEAM_FLAVOUR, SECRET_VAULT_ID


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    project = ProjectCopy(tmp_path_factory.mktemp("secrets"))
    project.write_flavour("feed-consumer.yaml", SECRET_TEAM_FLAVOUR)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "key_vaults": {"contoso-kv": SECRET_VAULT_ID}}
    return project.plan("dev", config=config), config


def test_no_guardrail_refuses_the_flavour_reading_secrets(planned):
    plan, config = planned
    errors, _ = enforce(plan, config)
    assert errors == []


def test_a_pasted_key_in_the_same_flavour_is_still_caught(planned, tmp_path):
    """Reading secrets opens no gap: a literal key pasted into the same script is refused when the
    flavour is loaded, before anything is planned."""
    project = ProjectCopy(tmp_path)
    pasted = SECRET_TEAM_FLAVOUR.replace("      check: dpkg -s internal-agent\n",
                                         "      check: dpkg -s internal-agent\n      environment:\n"
                                         "        NOTE: plain text\n")
    pasted = pasted.replace("set -euo pipefail\n", "set -euo pipefail\n        export AWS_SECRET_ACCESS_KEY="
                            "'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYq9'\n", 1)
    project.write_flavour("feed-consumer.yaml", pasted)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "key_vaults": {"contoso-kv": SECRET_VAULT_ID}}
    from components.stack_file import UserError

    with pytest.raises(UserError) as caught:
        project.plan("dev", config=config)
    assert "steps[2].script.inline" in str(caught.value) and "looks like a secret" in str(caught.value)
