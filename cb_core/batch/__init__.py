"""The scoring pipeline over Dask partitions: the single-machine functions on each merchant bucket.

May import every engine package below the faces (data, features, model, explain, offers); imported
only by the CLI. Dask and distributed load when a batch runs, not on import.
"""
from .run import (MERCHANTS_PER_PARTITION, MODEL_DIR, SUCCESS_FILE, BatchResult, cluster_client, partition_by_merchant,
                  read_output, read_tables, run_batch)

__all__ = ["MERCHANTS_PER_PARTITION", "MODEL_DIR", "SUCCESS_FILE", "BatchResult", "cluster_client",
           "partition_by_merchant", "read_output", "read_tables", "run_batch"]
