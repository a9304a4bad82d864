#!/bin/sh
# Creates the files compose.yaml hands to the containers as compose secrets, in secrets/ next to
# it (git-ignored): a new random value (openssl rand -hex 32: letters and digits, fit for URLs)
# for each that does not exist yet; existing ones are kept. Then writes postgrest_db_uri,
# PostgREST's connection string, from authenticator_password: run this again after changing that
# password (docs/RUNBOOK.md, "Rotating secrets"). Run in the checkout.
set -eu
umask 077
mkdir -p secrets
chmod 700 secrets
for name in postgres_password jwt_secret authenticator_password planner_api_password memory_gateway_password; do
  if [ ! -s "secrets/$name" ]; then
    openssl rand -hex 32 | tr -d '\n' >"secrets/$name"
    echo "created secrets/$name"
  fi
done
# The off-site backup bucket's keys: empty until BACKUP_TARGET is a bucket, then the operator
# writes them (docs/RUNBOOK.md, "Backups off the droplet"). compose needs the files either way.
for name in backup_s3_access_key_id backup_s3_secret_access_key; do
  [ -e "secrets/$name" ] || : >"secrets/$name"
done
printf 'postgresql://authenticator:%s@postgres-erp:5432/portfolio' "$(cat secrets/authenticator_password)" >secrets/postgrest_db_uri
# The tool image's user (node) and PostgREST's run as uid 1000 and read these bind-mounted files;
# the postgres image reads its file as root.
if [ "$(id -u)" = 0 ]; then
  chown 1000:1000 secrets/*
elif [ "$(id -u)" != 1000 ]; then
  echo "secrets/ is yours (uid $(id -u)); the containers read it as uid 1000: sudo chown 1000:1000 secrets/*" >&2
fi
echo "secrets/ holds every secret compose.yaml needs"
