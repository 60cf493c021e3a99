#!/usr/bin/env bash
# Run a MinIO server on 127.0.0.1 for local development, in the foreground (Ctrl-C stops it).
#
# Environment:
#   MINIO_ROOT_USER, MINIO_ROOT_PASSWORD  admin credentials (required; password >= 8 chars)
#   MINIO_DATA_DIR         where objects live (default .data_platform/minio)
#   MINIO_ADDRESS          S3 API address (default 127.0.0.1:9000)
#   MINIO_CONSOLE_ADDRESS  web console address (default 127.0.0.1:9001)
# Then run infra/local/minio-setup.sh once to create the bucket and the users.
set -euo pipefail

: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is required}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is required}"
data_dir="${MINIO_DATA_DIR:-.data_platform/minio}"

mkdir -p "$data_dir"
exec minio server "$data_dir" \
  --address "${MINIO_ADDRESS:-127.0.0.1:9000}" \
  --console-address "${MINIO_CONSOLE_ADDRESS:-127.0.0.1:9001}"
