"""Fixtures of the offers tests."""
import pytest

from cb_core.offers import load_products


@pytest.fixture(scope="module")
def shipped():
    """The shipped partner catalog (data/loan_products.json), validated."""
    return load_products()
