import pytest

# The contract checks (tests/contract.py) are asserts, and conftest's helpers import the
# module before it is loaded as a plugin: have pytest rewrite it all the same.
pytest.register_assert_rewrite("tests.contract")
