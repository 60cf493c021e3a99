"""Storage-format benchmark kernels: the cases registry, one call per case, a summary.

Also the inference benchmark (`inference_bench`, `inference_report`, `inference_workloads`).
No Dagster here: an orchestrator maps `case_ids()` to partitions and calls
`run_format_case(case_id, ...)` per partition, then `results_table`, the plot functions
(PNG bytes) and `markdown_table` on the collected rows.

Import from the modules themselves, so the processes that measure peak memory do not
import matplotlib and the plotting code.
"""
