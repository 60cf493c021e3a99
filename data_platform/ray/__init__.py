"""Ray drivers: a partition's rows mapped over a cluster's actors, and this process as a
cluster's driver. The local cluster's launcher lives in ops/, not here."""
