"""App-level benchmarks (issue #7): app start to first page, the Merchant review page in Chromium,
and explainerdashboard's build on the same model and rows.

Usage (the app's venv; Chromium at /usr/bin/chromium; explainerdashboard from ``bench/.venv``)::

    .venv/bin/python -m bench.app                      # 100,000 and 1,000,000 merchants
    .venv/bin/python -m bench.app --merchants 2000 --visits 3 --no-explainerdashboard --no-results
    .venv/bin/python -m bench.app --prepare-only --merchants 1000000

(``bench/bench_app.py`` runs the same.)

What it measures (bench/README.md, "App benchmarks", says it at length):

* ``prepare``: a state folder per book size with the demo book (``generate_book``, 24 months) and a
  model trained on it: the app's own first-start call, ``workspace.ensure_demo``. Cached under
  ``bench/out/app-bench/n<N>/`` (git-ignored) and reused by later runs.
* ``app_*_cold`` / ``app_*_warm``: a fresh ``streamlit run app.py`` process; cold = the state's
  ``cache/`` folder (snapshot, scores, bands parquet files) deleted first, warm = left as the
  previous run wrote it. Timeline from the launch: ``server_up`` (``/_stcore/health`` answers),
  ``login_form`` (the form is shown in Chromium), ``first_page`` (from the click on "log in" to the
  landing page fully shown: title, merchant count, both charts, script no longer running),
  ``app_ready`` (launch to that moment). The server's peak RSS is its ``VmHWM``.
* ``review_first_visit`` / ``review_warm_visit``: in the warm server, after the landing page, the
  click on the Merchant review link (the page's first run in that process), then merchants typed
  into the search box, each until its score, the waterfall chart and the reasons are shown and
  the script stopped running. Bytes received over the websocket are counted per visit.
  ``review_warm_visit_idle``: as many other merchants again once the server's CPU has been idle for
  3 s (its background warm-up ended), so both "while the warm-up runs" and "warm" are on record.
* ``page_first_<page>`` / ``page_warm_<page>`` / ``pages_summary``: a third fresh server (cache/ kept,
  warm-up on) at ``--pages-at`` (default the smallest size): every page's first visit after the
  login, then ``--page-rounds`` warm visits of every page (:mod:`~bench.app.pages`).
* ``explainerdashboard_build``: ``ClassifierExplainer(model, X, y)`` + ``ExplainerDashboard(explainer)``
  (built, never served) in ``bench/.venv`` on our booster (inside an ``LGBMClassifier``) and the
  same snapshot rows the app scores; the ratio is that over our cold ``app_ready`` of the same size.

Output: one JSON line per record on stdout, progress on stderr, and (unless ``--no-results``) one
section appended to ``bench/RESULTS.md``.

Modules: :mod:`~bench.app.state` (the prepared state folders), :mod:`~bench.app.browser` (server and
Chromium), :mod:`~bench.app.explainerdashboard` (its build, in ``bench/.venv``),
:mod:`~bench.app.report` (the RESULTS.md section), :mod:`~bench.app.cli`. Each imports only the
standard library at the top: ``bench/.venv`` runs this package too (the explainerdashboard child),
and that venv has no Streamlit, Playwright or ``cb_core`` dependencies.
"""

