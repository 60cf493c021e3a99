#!/usr/bin/env bash
# Create the lake bucket and two least-privilege users on a MinIO server. Safe to re-run.
#
# One script for every deployment: run by hand against a local server (docs/deployment.md),
# by the compose `minio-init` service (mounted), and by the Kubernetes `minio-bucket-init` Job
# (a verbatim copy in infra/kubernetes/minio/setup-script-configmap.yaml; a test keeps the two
# identical). Needs `mc` on PATH.
#
# Environment:
#   MINIO_ENDPOINT                          server URL (default http://127.0.0.1:9000)
#   MINIO_ROOT_USER, MINIO_ROOT_PASSWORD    the server's admin credentials (required)
#   DP_BUCKET                               the lake bucket, the platform's DP_BUCKET (default lake)
#   PLATFORM_ACCESS_KEY, PLATFORM_SECRET_KEY  read-write user of the platform (required)
#   READONLY_ACCESS_KEY, READONLY_SECRET_KEY  read-only user, e.g. for analysts (required)
#   MINIO_WAIT_SECONDS                      how long to wait for the server (default 120)
# Both users are limited to DP_BUCKET: neither can list, read or create other buckets, nor
# change the bucket's settings (versioning, lifecycle, policy): that stays with the admin.
set -euo pipefail

endpoint="${MINIO_ENDPOINT:-http://127.0.0.1:9000}"
bucket="${DP_BUCKET:-lake}"
wait_seconds="${MINIO_WAIT_SECONDS:-120}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is required}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is required}"
: "${PLATFORM_ACCESS_KEY:?PLATFORM_ACCESS_KEY is required}"
: "${PLATFORM_SECRET_KEY:?PLATFORM_SECRET_KEY is required}"
: "${READONLY_ACCESS_KEY:?READONLY_ACCESS_KEY is required}"
: "${READONLY_SECRET_KEY:?READONLY_SECRET_KEY is required}"

for secret in "$PLATFORM_SECRET_KEY" "$READONLY_SECRET_KEY"; do
  if [ "${#secret}" -lt 8 ]; then
    echo "minio-setup: secret keys need at least 8 characters (MinIO refuses shorter ones)" >&2
    exit 2
  fi
done

# A private mc config dir: the root credentials never land in the caller's ~/.mc.
alias_name="dp-setup"
config_dir="$(mktemp -d)"
trap 'rm -rf "$config_dir"' EXIT
mcx() { mc --config-dir "$config_dir" "$@"; }

# `mc alias set` contacts the server, so it doubles as the readiness probe (bounded).
deadline=$((SECONDS + wait_seconds))
until mcx alias set "$alias_name" "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "minio-setup: no answer from $endpoint within ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 1
done

mcx mb --ignore-existing "$alias_name/$bucket"

cat >"$config_dir/readwrite.json" <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads",
        "s3:ListBucketVersions", "s3:GetBucketVersioning"
      ],
      "Resource": ["arn:aws:s3:::$bucket"]
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
        "s3:GetObjectVersion", "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
        "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging"
      ],
      "Resource": ["arn:aws:s3:::$bucket/*"]
    }
  ]
}
EOF

# the read-only user is the analyst: it reads the bucket but not what holds personal
# values as they arrived (uploads in landing, archive and quarantine; raw's table files)
cat >"$config_dir/readonly.json" <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::$bucket"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": ["arn:aws:s3:::$bucket/*"]
    },
    {
      "Effect": "Deny",
      "Action": ["s3:GetObject"],
      "Resource": [
        "arn:aws:s3:::$bucket/landing/*", "arn:aws:s3:::$bucket/archive/*",
        "arn:aws:s3:::$bucket/quarantine/*", "arn:aws:s3:::$bucket/warehouse/raw/*"
      ]
    }
  ]
}
EOF

# Re-creating a policy replaces it, and `user add` on an existing user resets the secret.
mcx admin policy create "$alias_name" "$bucket-readwrite" "$config_dir/readwrite.json"
mcx admin policy create "$alias_name" "$bucket-readonly" "$config_dir/readonly.json"
mcx admin user add "$alias_name" "$PLATFORM_ACCESS_KEY" "$PLATFORM_SECRET_KEY"
mcx admin user add "$alias_name" "$READONLY_ACCESS_KEY" "$READONLY_SECRET_KEY"

attach() {
  local policy="$1" user="$2" out
  if ! out="$(mcx admin policy attach "$alias_name" "$policy" --user "$user" 2>&1)"; then
    case "$out" in
      *"already in effect"*) ;;  # a re-run: the policy is attached already
      *) echo "$out" >&2; return 1 ;;
    esac
  fi
}
attach "$bucket-readwrite" "$PLATFORM_ACCESS_KEY"
attach "$bucket-readonly" "$READONLY_ACCESS_KEY"

echo "minio-setup: bucket '$bucket' ready at $endpoint;" \
  "users '$PLATFORM_ACCESS_KEY' (read-write) and '$READONLY_ACCESS_KEY' (analyst: read-only, not raw)"
