"""The landing page's modules load no training library (issue #15's cold start): LightGBM, scikit-learn and
scipy.stats are a second of import on this machine, and the app's first page, the model report's tables and
the backtest's intervals import them only when they train or compute with them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.app import ROOT

_PROBE = """
import json, sys
import ui.cache, ui.charts, ui.policy, ui.tables, ui.display, ui.warm  # what the Portfolio page and the warm-up import
from cb_core.model import validation_windows, load_model
from cb_core.loans import backtest
before = {m for m in ("lightgbm", "sklearn", "scipy.stats") if m in sys.modules}
from cb_core.loans.calibration import jeffreys_interval
low, high = jeffreys_interval(3, 40)
from cb_core.model import metrics
auc = metrics.auc([0.9, 0.1, 0.8, 0.3], [1, 0, 1, 0])
print(json.dumps({"before": sorted(before), "after": "scipy.stats" in sys.modules, "low": float(low), "high": float(high),
                  "auc": auc}))
"""


def test_the_landing_pages_modules_import_no_training_library():
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["before"] == [] and got["after"] is True  # loaded once asked for, and then right:
    from scipy.stats import beta

    assert got["low"] == pytest.approx(beta.ppf(0.025, 3.5, 37.5), rel=1e-12)
    assert got["high"] == pytest.approx(beta.ppf(0.975, 3.5, 37.5), rel=1e-12)
    assert got["auc"] == 1.0
