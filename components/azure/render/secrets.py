"""Secret references on Azure: the build VM's identity and exactly the reads it is granted.

A step reading a Key Vault secret runs on the build VM, which reads with a managed identity
of its own (the template's vmProfile.userAssignedIdentities), not the template's identity:
that one acts for Image Builder outside the VM. The identity exists only in a stack whose
flavours read secrets on Azure, and only the templates of those flavours put it on their VM.

Grants (Azure built-in roles, by their role definition ids):
- the build VM identity gets "Key Vault Secrets User" (4633458b-17de-408a-b874-0445c86b69e6:
  the secrets' data action getSecret/readMetadata) scoped to each secret referenced,
  `<vault id>/secrets/<name>`: Key Vault's Azure RBAC takes assignments on one secret. The
  vault must use the Azure RBAC permission model (access policies ignore role assignments).
- the template identity may assign the build VM identity, and only it: Image Builder puts an
  identity on the build VM with the template identity's right to assign it (what the built-in
  "Managed Identity Operator", f1a07417-d97a-45cb-824c-7a7467783830, grants). A custom role of
  the factory with exactly those two actions stands in for the built-in one, assigned on the
  build VM identity: the template identity holds only the factory's custom roles (GI-AZ-003).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from ...model.secret_refs import SecretRef

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
# What assigning a user-assigned identity to a VM needs (Managed Identity Operator's actions).
IDENTITY_ASSIGN_ACTIONS = (
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
)


def role_definition_id(subscription_id: str, role: str) -> str:
    """A built-in role's definition id as a role assignment in that subscription names it."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def vault_subscription(vault_id: str) -> str:
    match = re.match(r"^/subscriptions/([^/]+)/", vault_id)
    if match is None:
        raise ValueError(f"'{vault_id}' is not a resource id")
    return match.group(1)


def secret_grants(refs: Iterable[SecretRef], key_vaults: Mapping[str, str]) -> list[tuple[str, str]]:
    """(scope, role definition id) of each Key Vault secret the build VM reads: one secret each.
    A versioned reference is granted on its secret (role assignments do not reach versions)."""
    grants = set()
    for ref in refs:
        if ref.cloud != "azure" or ref.vault is None:
            continue
        vault_id = key_vaults[ref.vault]
        grants.add((f"{vault_id}{ref.vault_secret_scope}",
                    role_definition_id(vault_subscription(vault_id), KEY_VAULT_SECRETS_USER)))
    return sorted(grants)


def reads_secrets(build: Any) -> bool:
    """True when a step of this build (FlavourBuild) reads a secret on Azure."""
    return any(step.secrets for step in build.steps_on("azure"))
