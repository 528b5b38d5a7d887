"""Guardrails for golden image factories: rules written once, enforced in preview and in the offline plan.

rules.py holds the rules as pure functions over resources' wire inputs; context.py builds
what some rules need to know about the stack; pack.py runs them as a pulumi-policy pack
(`pulumi preview --policy-pack policy`); offline.py runs them on `make plan`'s plan.
"""
