#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job on the built-in example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/cli/reproimg demo
