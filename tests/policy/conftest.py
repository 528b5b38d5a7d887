"""Guardrail tests: rules, the policy pack adapter and the offline plan."""


def pytest_configure(config):
    config.addinivalue_line("markers", "rule(rule_id, kind): the test proves a guardrail 'passes' or 'violates'")
