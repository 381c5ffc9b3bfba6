"""The input side: the Book, the data contract and its validation, readers and writers, the shipped
catalogs (features, categories, regions) and column summaries.

Validation names every problem (table, column, rows, rule, an example) and never half-loads a book.
May import only the base modules (errors, config, i18n, diskio, access, lazy). The front loads
lazily: the feature catalog alone does not load pyarrow; validating does not load pandera.
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_arrow": ("arrow_take", "arrow_to_numpy", "dictionary_codes", "numpy_to_arrow", "one_array", "text_scalar"),
    "book": ("ACTIVITY_COLUMNS", "BUREAU_HISTORY_COLUMNS", "DEFAULT_EVENT_COLUMNS", "MERCHANT_COLUMNS", "OUTCOME_COLUMNS",
             "OUTCOME_HORIZON_MONTHS", "OUTCOME_OPTIONAL_COLUMNS", "PERSONAL_COLUMNS", "REQUIRED_TABLES",
             "SENSITIVE_COLUMNS", "STATIC_FIELDS", "TABLES", "Book", "PendingTable"),
    "loan_contract": ("LOAN_COLUMNS", "LOAN_CONTRACT", "LOAN_MONTH_COLUMNS", "LOAN_STATUSES", "REPAYMENT_KINDS",
                      "STATUS_DAYS", "TERMINAL_STATUSES"),
    "catalog": ("FeatureSpec", "categories", "feature_catalog", "regions"),
    "_files": ("read_table",),
    "_installed": ("merchant_row_groups",),
    "quality": ("column_summary",),
    "retention": ("prune_books",),
    "schema": ("CANONICAL_SCHEMAS", "CONTRACT", "MAX_PROBLEMS", "ROW_NUMBERS_NOTE", "ColumnSpec", "conforms",
               "validate_tables"),
    "sources": ("FORMATS", "TRUSTED", "load_current", "open_book", "read_book", "save_current", "write_book"),
    "uploads": ("read_uploaded",),
})
