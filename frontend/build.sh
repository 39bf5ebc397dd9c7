#!/usr/bin/env bash
# Called by the Maven build (exec-maven-plugin, see pom.xml):
#   build.sh ci    npm ci, unless node_modules already matches package-lock.json
#   build.sh build npm run build (into target/webroot), unless the sources are unchanged since the last build
#   build.sh test  npm test (Angular's unit-test builder, Vitest + jsdom), unless unchanged since the last pass
# Skips are keyed on content hashes, so an unchanged frontend costs nothing in `mvn verify`.
# Only the npm registry is used (no Node or browser download).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
step="${1:?ci|build|test}"
skip_all="${2:-false}"
skip_tests="${3:-false}"
[[ "$skip_all" == "true" ]] && { echo "frontend: skipped (-Dfrontend.skip)"; exit 0; }

command -v npm >/dev/null 2>&1 || { echo "frontend: npm is required (Node.js 20.19+ with npm), or build with -Dfrontend.skip" >&2; exit 1; }
mkdir -p target

inputs_hash() {
  { sha256sum package.json package-lock.json angular.json tsconfig*.json
    find src public -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1
}

case "$step" in
  ci)
    lock=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [[ -f node_modules/.c4a-lock && "$(cat node_modules/.c4a-lock)" == "$lock" ]]; then
      echo "frontend: node_modules up to date"
      exit 0
    fi
    npm ci --no-audit --no-fund --prefer-offline
    echo "$lock" > node_modules/.c4a-lock
    ;;
  build)
    h=$(inputs_hash)
    if [[ -f target/webroot/index.html && -f target/.build-hash && "$(cat target/.build-hash)" == "$h" ]]; then
      echo "frontend: build up to date"
      exit 0
    fi
    rm -f target/.build-hash
    NG_CLI_ANALYTICS=false npm run build -- --progress=false
    echo "$h" > target/.build-hash
    ;;
  test)
    [[ "$skip_tests" == "true" ]] && { echo "frontend: tests skipped"; exit 0; }
    h=$(inputs_hash)
    if [[ -f target/.test-hash && "$(cat target/.test-hash)" == "$h" ]]; then
      echo "frontend: unit tests passed before on these sources"
      exit 0
    fi
    rm -f target/.test-hash
    NG_CLI_ANALYTICS=false npm test -- --progress=false
    echo "$h" > target/.test-hash
    ;;
  *) echo "usage: build.sh ci|build|test [skip_all] [skip_tests]" >&2; exit 2 ;;
esac
