#!/usr/bin/env bash
# Builds the Lambda layers serverless.yml references: the tiktoken layer holds js-tiktoken's rank
# tables (megabytes), which lib/tokenizer.ts reads in the ingest, query and documents functions,
# so the bundles stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
layer=.build/layers/tiktoken/nodejs/node_modules
rm -rf .build/layers/tiktoken
mkdir -p "$layer"
cp -R node_modules/js-tiktoken "$layer/"
# Only the ESM rank tables the code loads, and the package metadata.
find "$layer/js-tiktoken/dist" -type f ! -path '*/ranks/o200k_base.js' ! -path '*/ranks/cl100k_base.js' -delete
find "$layer/js-tiktoken" -type d -empty -delete
echo "tiktoken layer: $(du -sh .build/layers/tiktoken | cut -f1)"
