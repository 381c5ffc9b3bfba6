"""How one demo loan repays, month by month (used by :mod:`cb_core.loans.demo`).

A loan's life is decided by the merchant's own months after booking:

- **The default event.** Each month ``m`` after booking, a loan not yet in trouble first misses a
  payment for good with probability ``1 - (1 - PD)^(1/9)``, where PD is the generator's true PD of
  the merchant at ``m - 1`` (:func:`cb_core.synth.true_pd_at`, so falling sales, returns and
  disputes raise it month by month) and 0.6 in a month without activity (a merchant that stopped
  selling). Nine months, not twelve: the missed payment rolls 30 days a month and reaches 90+ three
  months later, so a loan is "bad" (90+ within 12 months) with about its PD at booking. When the
  book carries a default month per merchant (the ``default_events`` table), that month is the 90+
  month instead and nothing is drawn (:mod:`cb_core.loans.demo` fixes ``miss_month``).
- **The roll.** From the first missed payment: 15, 45, 75, 105, 135, 165 days past due at month
  ends (``dpd_1_29`` ... ``dpd_90_plus``), then charged off at 195 days; no payment, the balance
  frozen (non-accrual). A quarter of drawn events cure at 30–59 days: the merchant pays what it
  missed that month and is current again (the draws resume the month after).
- **Amortizing loans** pay the annuity instalment (:func:`cb_core.offers.annuity_payment`);
  interest accrues monthly at APR / 12. A merchant that is not defaulting misses one instalment now
  and then (probability ``0.02 * (1 + 10 * PD)`` a month) and pays it with the next one (a cure).
  1% a month prepay in full; the last instalment clears the balance (``repaid``).
- **Daily-settlement advances** owe the advance plus its fixed fee and pay ``withhold_pct`` of the
  month's sales (``gmv_krw``; nothing in a month without activity), whatever is left at
  ``max_term_months``.
"""
from __future__ import annotations

import numpy as np

from ..offers import annuity_payment

#: True PD assumed in a month without an activity row.
INACTIVE_PD = 0.6
#: Months over which the PD at month ``m - 1`` spreads the first missed payment (see above).
HAZARD_MONTHS = 9
TRANSIENT_MISS = 0.02
PREPAY = 0.01
CHARGE_OFF_MONTHS = 6  # after the first missed payment: 195 days past due
CURE_AT_30 = 0.25


def _status(dpd: int) -> str:
    if dpd == 0:
        return "current"
    if dpd < 30:
        return "dpd_1_29"
    if dpd < 60:
        return "dpd_30_59"
    if dpd < 90:
        return "dpd_60_89"
    return "dpd_90_plus"


def loan_path(rng: np.random.Generator, *, start: int, n_months: int, amount: float, apr_pct: float,
              term: int, product: dict, gmv: np.ndarray, pd_by_month: np.ndarray,
              miss_month: int | None = None) -> list[tuple[int, int, int, int, str]]:
    """Rows ``(month index, balance, paid, days past due, status)`` from the booking month ``start``
    to the loan's end or the book's last month (index ``n_months - 1``).

    ``gmv`` and ``pd_by_month`` are the merchant's sales and true PD by month index (NaN without a
    row); ``miss_month`` fixes the first missed payment (no draw) when the book has default months.
    """
    advance = product["repayment"] != "amortizing"
    fee = float(product.get("fixed_fee_pct") or 0.0) / 100.0
    balance = float(round(amount * (1 + fee))) if advance else float(amount)
    instalment = 0.0 if advance else float(annuity_payment(amount, apr_pct, term))
    rate = 0.0 if advance else apr_pct / 1200.0
    max_term = int(product.get("max_term_months") or term) if advance else term
    rows = [(start, int(balance), 0, 0, "current")]
    missed = 0
    drawn = miss_month is None
    for m in range(start + 1, n_months):
        previous_pd = pd_by_month[m - 1]
        pd_prev = INACTIVE_PD if np.isnan(previous_pd) else float(previous_pd)
        if drawn and miss_month is None:
            if rng.random() < 1.0 - (1.0 - pd_prev) ** (1.0 / HAZARD_MONTHS):
                miss_month = m
        if miss_month is not None and m == miss_month + 2 and drawn and rng.random() < CURE_AT_30:
            miss_month, missed = None, 2  # cured after 30-59 days: pays the two missed instalments too
        if miss_month is not None and m >= miss_month:
            k = m - miss_month
            if k >= CHARGE_OFF_MONTHS:
                rows.append((m, int(balance), 0, 15 + 30 * k, "charged_off"))
                break
            rows.append((m, int(balance), 0, 15 + 30 * k, _status(15 + 30 * k)))
            continue
        mob = m - start
        if advance:
            sales = 0.0 if np.isnan(gmv[m]) else float(gmv[m])
            paid = balance if mob >= max_term else min(balance, round(sales * float(product["withhold_pct"]) / 100))
            balance -= paid
            rows.append((m, int(balance), int(paid), 0, "repaid" if balance <= 0 else "current"))
            if balance <= 0:
                break
            continue
        if missed == 0 and rng.random() < TRANSIENT_MISS * (1 + 10 * pd_prev):
            missed = 1
            balance = float(round(balance * (1 + rate)))
            rows.append((m, int(balance), 0, 15, "dpd_1_29"))
            continue
        due = instalment * (1 + missed)
        missed = 0
        owed = float(round(balance * (1 + rate)))
        if mob >= term or owed <= due + 1 or rng.random() < PREPAY:
            rows.append((m, 0, int(owed), 0, "repaid"))
            break
        paid = float(round(due))
        balance = owed - paid
        rows.append((m, int(balance), int(paid), 0, "current"))
    return rows
