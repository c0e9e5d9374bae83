"""Shared pytest configuration: the `slow` marker (selected by default; `-m "not slow"` skips)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes 10 s or more (selected by default; deselect with -m 'not slow')"
    )
