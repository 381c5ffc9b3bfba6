"""The reproducible demo book: merchants, monthly activity and outcomes of any size from a seed, with
the documented true PD behind every outcome (same seed, same bytes).

May import the base modules and ``data``.
"""
from .generate import (CATEGORY_PD_EFFECT, LOAN_SHARE, PD_COEFFICIENTS, business_reg_check_digit, generate_book,
                       snapshot_months)
from ._truth import true_pd_at, true_pd_path

__all__ = ["CATEGORY_PD_EFFECT", "LOAN_SHARE", "PD_COEFFICIENTS", "business_reg_check_digit", "generate_book",
           "snapshot_months", "true_pd_at", "true_pd_path"]
