"""What publishing a draft changes against the policy in force: the summary a product manager
confirms before publishing (in the app and on the command line)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .policy import Policy
from .results import PolicyComparison, compare_policies, evaluate

#: The figures of the summary, in order.
IMPACT_METRICS: tuple[str, ...] = ("approval_rate", "expected_bad_rate", "expected_loss_krw", "profit_krw")


@dataclass(frozen=True)
class PublicationImpact:
    """The draft against the published policy on one book.

    Attributes
    ----------
    table : DataFrame
        Index :data:`IMPACT_METRICS`; columns ``published``, ``draft``, ``change`` (draft minus published).
    n_changed : int
        Merchants whose decision differs between the two.
    comparison : PolicyComparison
        Who changes, and the 3x3 matrix.
    """

    table: pd.DataFrame
    n_changed: int
    comparison: PolicyComparison

    def to_dict(self) -> dict[str, object]:
        """Plain numbers (JSON-ready): ``{metric: {published, draft, change}, "n_changed": n}``."""
        out: dict[str, object] = {m: {k: float(v) for k, v in self.table.loc[m].items()} for m in self.table.index}
        out["n_changed"] = self.n_changed
        return out


def publication_impact(frame: pd.DataFrame, draft: Policy, published: Policy) -> PublicationImpact:
    """Approval rate, expected bad rate, expected loss and profit of ``published`` and ``draft`` on
    ``frame`` (a strategy frame), and how many merchants change decision."""
    before, after = evaluate(frame, published), evaluate(frame, draft)
    rows = {m: (getattr(before, m), getattr(after, m)) for m in IMPACT_METRICS}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["published", "draft"])
    table["change"] = table["draft"] - table["published"]
    comparison = compare_policies(frame, draft, published)
    return PublicationImpact(table, int(len(comparison.changes)), comparison)


__all__ = ["IMPACT_METRICS", "PublicationImpact", "publication_impact"]
