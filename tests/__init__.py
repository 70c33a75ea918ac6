import pytest

# The contract checks (tests/support/contract.py) and the other shared helpers assert, and
# conftest's helpers import them before pytest would see them: have pytest rewrite them all
# the same.
pytest.register_assert_rewrite("tests.support")
