-- One PostgreSQL server, two databases: the Iceberg SQL catalog (DP_CATALOG_URI) and the
-- Dagster instance (DAGSTER_PG_DB). The postgres image runs this once, on an empty data
-- directory, as POSTGRES_USER, who owns both. Docker Compose mounts this file; Kubernetes
-- gets a verbatim copy in infra/kubernetes/postgres/init-configmap.yaml (a test compares them).
CREATE DATABASE iceberg;
CREATE DATABASE dagster;
