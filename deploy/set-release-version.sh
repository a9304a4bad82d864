#!/bin/sh
# Sets ERP_VERSION in .env to the version of the checked-out release (package.json's), the tag
# compose.yaml builds and runs the tool image as. Run in the checkout after `git checkout <tag>`
# (docs/RUNBOOK.md, "Deploying a release" and "Rolling back").
set -eu
version=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' package.json | head -n 1)
if [ -z "$version" ]; then
  echo "package.json names no version: run this in the checkout" >&2
  exit 1
fi
if [ ! -f .env ]; then
  echo ".env is missing: cp .env.example .env first (docs/RUNBOOK.md, First deploy)" >&2
  exit 1
fi
if grep -q '^ERP_VERSION=' .env; then
  sed -i "s/^ERP_VERSION=.*/ERP_VERSION=$version/" .env
else
  printf 'ERP_VERSION=%s\n' "$version" >>.env
fi
echo "ERP_VERSION=$version in .env: the tool image is postgres-erp-tools:$version"
