"""ui.cache.find_merchants: the review page's search on an index built once per book gives exactly
the rows of cb_core.explain.find_merchants (the reference), in the same order, for any query."""
from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def merchants(small_book):
    m = small_book.merchants.copy()
    # names and ids a search must get right: mixed case, a shared prefix, an id that is a prefix of another
    m.loc[m.index[0], "business_name"] = "Sky Nail 하늘네일"
    m.loc[m.index[1], "business_name"] = "하늘네일 2호점"
    m.loc[m.index[2], "business_name"] = "SKY café"
    return m


@pytest.mark.parametrize("query", ["", "   ", "하늘", "하늘네일", "sky", "SKY", "Café", "M0", "m00", "M000001",
                                   "zzz-no-such", "네일 2", "%", ".*", "\\"])
def test_same_rows_as_find_merchants(merchants, query):
    from cb_core.explain import find_merchants
    from ui.cache import MerchantSearch

    search = MerchantSearch(merchants)
    for limit in (50, 3):
        want = find_merchants(merchants, query, limit=limit)
        got = search.find(query, limit=limit)
        pd.testing.assert_frame_equal(got, want)


def test_an_id_prefix_finds_every_id_it_starts(merchants):
    from ui.cache import MerchantSearch

    first = str(merchants["merchant_id"].iloc[0])
    prefix = first[:-1]
    want = [m for m in merchants["merchant_id"].astype(str) if m.upper().startswith(prefix.upper())][:50]
    got = MerchantSearch(merchants).find(prefix.lower())["merchant_id"].astype(str).tolist()
    assert want and set(want) <= set(got)  # a lower-case prefix finds them all (names may add rows)
